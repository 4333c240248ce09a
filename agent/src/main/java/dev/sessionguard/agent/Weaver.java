package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Opcodes;
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

    /**
     * A type the class refers to has no class file its loader can find (a class generated at run time): left
     * as it is. Not a version problem, and not remembered as one: the same library loads fine in another JVM.
     */
    static final class Unresolvable extends Exception {
        Unresolvable(String message) {
            super(message);
        }
    }

    private final ClassFileLocator agentLocator = ClassFileLocator.ForClassLoader.of(Weaver.class.getClassLoader());
    private final TypePool agentPool = TypePool.Default.of(agentLocator);
    private final Map<String, Advice> advices = new ConcurrentHashMap<>();
    private final References references = new References(agentLocator);
    private final ByteBuddy byteBuddy = new ByteBuddy()
            .with(TypeValidation.DISABLED)
            // no added fields, methods or initializers: the result must be valid for retransformation
            .with(Implementation.Context.Disabled.Factory.INSTANCE)
            .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE);

    @Override
    public Advice to(String adviceClassName) {
        return advices.computeIfAbsent(adviceClassName, n -> {
            Advice.WithCustomMapping mapping = Advice.withCustomMapping();
            for (Advice.OffsetMapping.Factory<?> binding : dev.sessionguard.instrumentation.Targets.bindings()) {
                mapping = mapping.bind(binding);
            }
            return mapping.to(agentPool.describe(n).resolve(), agentLocator);
        });
    }

    /** The woven class file of {@code name}, the classes it refers to found through its class loader. */
    byte[] weave(Target target, String name, byte[] bytes, ClassLoader loader) throws Unsupported, Unresolvable {
        return weave(target, name, bytes,
                loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader() : ClassFileLocator.ForClassLoader.of(loader));
    }

    /**
     * The woven class file of {@code name}. {@code dependencies} finds the classes it refers to (its
     * superclasses for the fields the advice reads).
     */
    byte[] weave(Target target, String name, byte[] bytes, ClassFileLocator dependencies) throws Unsupported, Unresolvable {
        try {
            return weaveWith(target, name, bytes, dependencies);
        } catch (Unsupported newest) {
            // the advice for older versions of the same classes, if there is one (Target.older())
            Target older = target.older();
            if (older == null) {
                throw newest;
            }
            try {
                return weave(older, name, bytes, dependencies);
            } catch (Unsupported also) {
                throw new Unsupported(newest.getMessage() + "; nor does the advice for older versions: " + also.getMessage());
            }
        }
    }

    private byte[] weaveWith(Target target, String name, byte[] bytes, ClassFileLocator dependencies) throws Unsupported, Unresolvable {
        ClassFileLocator locator = new ClassFileLocator.Compound(ClassFileLocator.Simple.of(name, bytes),
                new GeneratedInterfaces(dependencies, new ClassReader(bytes).getInterfaces()));
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
            java.util.List<String> used = new java.util.ArrayList<>();
            DynamicType.Builder<?> builder = target.transform(byteBuddy.redefine(type, locator), n -> {
                used.add(n);
                return to(n);
            });
            // every method, field and type of the library the advice uses, looked up in the class's own loader
            String missing = references.firstMissing(used, pool);
            if (missing != null) {
                throw new Unsupported("the advice uses " + missing + ", which this version does not have (unsupported library version)");
            }
            return builder.make().getBytes();
        } catch (TypePool.Resolution.NoSuchTypeException e) {
            throw new Unresolvable("it refers to a type its class loader has no class file for (" + e.getMessage()
                    + "); not a version problem: another agent or a framework may have generated that type");
        } catch (IllegalStateException | IllegalArgumentException e) {
            // Byte Buddy's word for "a field or parameter the advice binds does not exist here"
            throw new Unsupported("the advice does not fit this version (" + e.getMessage() + ")");
        }
    }

    /**
     * Another agent may have made the class implement an interface it generated at run time, with no class file
     * anywhere (OpenTelemetry's VirtualFieldAccessor$...): weaving needs only that interface's name, so such an
     * interface of the woven class itself is described as an empty public interface. Any other missing type
     * stays missing. docs/weaving.md, "Beside other agents".
     */
    static final class GeneratedInterfaces implements ClassFileLocator {
        private final ClassFileLocator delegate;
        private final java.util.Set<String> interfaces = new java.util.HashSet<>();

        GeneratedInterfaces(ClassFileLocator delegate, String[] internalNames) {
            this.delegate = delegate;
            for (String n : internalNames) {
                interfaces.add(n.replace('/', '.'));
            }
        }

        @Override
        public Resolution locate(String name) throws java.io.IOException {
            Resolution found = delegate.locate(name);
            if (found.isResolved() || !interfaces.contains(name)) {
                return found;
            }
            ClassWriter w = new ClassWriter(0);
            w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_INTERFACE,
                    name.replace('.', '/'), null, "java/lang/Object", null);
            w.visitEnd();
            return new Resolution.Explicit(w.toByteArray());
        }

        @Override
        public void close() throws java.io.IOException {
            delegate.close();
        }
    }
}
