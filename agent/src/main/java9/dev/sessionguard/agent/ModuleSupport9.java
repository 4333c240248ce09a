package dev.sessionguard.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.Collections;

/** {@link ModuleSupport} on JDK 9 and later. */
final class ModuleSupport9 extends ModuleSupport {

    ModuleSupport9() {
    }

    @Override
    void openToLoader(Instrumentation inst, String pkg, ClassLoader loader) {
        inst.redefineModule(Object.class.getModule(), Collections.emptySet(), Collections.emptyMap(),
                Collections.singletonMap(pkg, Collections.singleton(loader.getUnnamedModule())),
                Collections.emptySet(), Collections.emptyMap());
    }

    @Override
    ClassFileTransformer moduleAware(GuardTransformer transformer, Instrumentation inst) throws Exception {
        return new ModuleReads(transformer, inst);
    }
}
