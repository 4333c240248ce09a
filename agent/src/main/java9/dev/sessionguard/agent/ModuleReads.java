package dev.sessionguard.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.Set;

/**
 * JDK 9 and later: the transformer as the JVM calls it, with the module of the class. A class woven in a
 * named module (java.lang.reflect.Proxy classes live in the dynamic modules jdk.proxyN; a driver on the
 * module path) must read the bootstrap loader's unnamed module, where the helper classes are, or every
 * call of its advice fails with IllegalAccessError inside the advice's suppress and runs unguarded. The
 * read edge is added before the class is defined. See docs/weaving.md, "The helper classes".
 */
final class ModuleReads implements ClassFileTransformer {

    private final GuardTransformer delegate;
    private final Instrumentation inst;
    private final Set<Module> helpers;

    ModuleReads(GuardTransformer delegate, Instrumentation inst) throws ClassNotFoundException {
        this.delegate = delegate;
        this.inst = inst;
        this.helpers = Collections.singleton(Class.forName("dev.sessionguard.bootstrap.Guard", false, null).getModule());
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain pd, byte[] bytes) {
        byte[] woven = delegate.transform(loader, className, redefined, pd, bytes);
        if (woven != null && module != null && module.isNamed() && !module.canRead(helpers.iterator().next())) {
            try {
                inst.redefineModule(module, helpers, Collections.emptyMap(), Collections.emptyMap(),
                        Collections.emptySet(), Collections.emptyMap());
            } catch (Throwable t) {
                delegate.moduleReadFailed(className, module.getName(), t);
                return null; // woven, its advice could not reach the helpers: better left as it is
            }
        }
        return woven;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd, byte[] bytes) {
        return delegate.transform(loader, className, redefined, pd, bytes);
    }
}
