package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.pool.TypePool;

/**
 * Matches class names first, with one hash lookup per loaded class, and reaches for Byte Buddy only
 * when a target class actually loads. A class whose methods the advice does not fit is left untouched
 * with one WARN line: never half-instrumented.
 */
final class GuardTransformer implements ClassFileTransformer {

    private final Map<String, Target> byInternalName = new HashMap<>();
    private final LogSink log;
    /** "class#method" of what was instrumented, for the report. */
    private final Set<String> instrumented = Collections.newSetFromMap(new ConcurrentHashMap<String, Boolean>());
    private volatile Weaver weaver;

    GuardTransformer(List<Target> targets, LogSink log) {
        this.log = log;
        for (Target t : targets) {
            for (String name : t.typeNames()) {
                byInternalName.put(name.replace('.', '/'), t);
            }
        }
    }

    Set<String> instrumented() {
        return instrumented;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd,
                            byte[] bytes) {
        if (className == null) {
            return null;
        }
        Target target = byInternalName.get(className);
        if (target == null) {
            return null;
        }
        String name = className.replace('/', '.');
        try {
            byte[] result = weaver().weave(target, name, loader, bytes);
            if (result != null) {
                for (String m : target.methodNames()) {
                    instrumented.add(name + "#" + m);
                }
                log.debug("instrumented " + name);
            }
            return result;
        } catch (Throwable t) {
            log.warn("left " + name + " uninstrumented: " + t, t);
            return null;
        }
    }

    void retransformLoaded(Instrumentation inst) {
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (byInternalName.containsKey(c.getName().replace('.', '/')) && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
            } catch (Throwable t) {
                log.warn("could not instrument the already loaded " + c.getName() + ": " + t, t);
            }
        }
    }

    private Weaver weaver() {
        Weaver w = weaver;
        if (w == null) {
            synchronized (this) {
                w = weaver;
                if (w == null) {
                    w = new Weaver();
                    weaver = w;
                }
            }
        }
        return w;
    }

    /** The Byte Buddy part, created on the first target class that loads. */
    private final class Weaver implements Target.Advices {

        private final ClassFileLocator agentLocator = ClassFileLocator.ForClassLoader.of(GuardTransformer.class.getClassLoader());
        private final TypePool agentPool = TypePool.Default.of(agentLocator);
        private final Map<String, Advice> advices = new ConcurrentHashMap<>();
        private final ByteBuddy byteBuddy = new ByteBuddy()
                .with(TypeValidation.DISABLED)
                // no added fields, methods or initializers: the result must be valid for retransformation
                .with(Implementation.Context.Disabled.Factory.INSTANCE)
                .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE);

        @Override
        public Advice to(String adviceClassName) {
            return advices.computeIfAbsent(adviceClassName,
                    n -> Advice.to(agentPool.describe(n).resolve(), agentLocator));
        }

        byte[] weave(Target target, String name, ClassLoader loader, byte[] bytes) {
            ClassFileLocator locator = new ClassFileLocator.Compound(
                    ClassFileLocator.Simple.of(name, bytes),
                    loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader() : ClassFileLocator.ForClassLoader.of(loader));
            TypeDescription type = TypePool.Default.of(locator).describe(name).resolve();
            for (String m : target.methodNames()) {
                if (type.getDeclaredMethods().filter(net.bytebuddy.matcher.ElementMatchers.<MethodDescription>named(m)
                        .and(net.bytebuddy.matcher.ElementMatchers.takesArguments(0))).isEmpty()) {
                    log.warn("left " + name + " uninstrumented: this version has no " + m + "() (unsupported library version)", null);
                    return null;
                }
            }
            return target.transform(byteBuddy.redefine(type, locator), this).make().getBytes();
        }
    }
}
