package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.matcher.ElementMatchers;
import net.bytebuddy.pool.TypePool;

/**
 * The Byte Buddy part: weaves a target's advice into one class file. Used by the transformer (created on
 * the first target class that loads) and by the CLI's {@code scan}, so that scan says exactly what the
 * agent would do.
 */
final class Weaver implements Target.Advices {

    /** The class does not fit the advice (a method or field it needs is missing): left as it is. */
    static final class Unsupported extends Exception {
        Unsupported(String message) {
            super(message);
        }
    }

    private final ClassFileLocator agentLocator = ClassFileLocator.ForClassLoader.of(Weaver.class.getClassLoader());
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

    /** The woven class file of {@code name}, the classes it refers to found through its class loader. */
    byte[] weave(Target target, String name, byte[] bytes, ClassLoader loader) throws Unsupported {
        return weave(target, name, bytes,
                loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader() : ClassFileLocator.ForClassLoader.of(loader));
    }

    /**
     * The woven class file of {@code name}. {@code dependencies} finds the classes it refers to (its
     * superclasses for the fields the advice reads).
     */
    byte[] weave(Target target, String name, byte[] bytes, ClassFileLocator dependencies) throws Unsupported {
        ClassFileLocator locator = new ClassFileLocator.Compound(ClassFileLocator.Simple.of(name, bytes), dependencies);
        TypePool pool = TypePool.Default.of(locator);
        for (String required : target.requiredTypes()) {
            if (!pool.describe(required).isResolved()) {
                throw new Unsupported("the advice needs " + required + ", which this version does not have (unsupported library version)");
            }
        }
        TypeDescription type = pool.describe(name).resolve();
        for (String m : target.methodNames()) {
            if (type.getDeclaredMethods().filter(ElementMatchers.<MethodDescription>named(m)
                    .and(ElementMatchers.takesArguments(0))).isEmpty()) {
                throw new Unsupported("this version has no " + m + "() (unsupported library version)");
            }
        }
        try {
            return target.transform(byteBuddy.redefine(type, locator), this).make().getBytes();
        } catch (IllegalStateException | IllegalArgumentException e) {
            // Byte Buddy's word for "a field or parameter the advice binds does not exist here"
            throw new Unsupported("the advice does not fit this version (" + e.getMessage() + ")");
        }
    }
}
