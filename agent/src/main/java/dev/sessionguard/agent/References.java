package dev.sessionguard.agent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import net.bytebuddy.pool.TypePool;

/**
 * The reference check, in the spirit of OpenTelemetry's muzzle: every type, method and field of the library
 * that an advice class uses is looked up in the class's own loader before that class is woven. Byte Buddy
 * checks the fields an advice binds ({@code @FieldValue}); it does not check the calls in the advice's body, and
 * a call a version lacks would throw NoSuchMethodError inside the woven method on every call, swallowed by the
 * advice's suppression: the class would run unguarded in silence. With this check such a version is left as it
 * is, with a WARN line (and a line of {@code scan}) naming the missing reference. docs/weaving.md, "Gating".
 *
 * <p>A reference inside a {@code try} whose handler catches Throwable is optional: the advice was written to do
 * without it (a method a newer version added), so it does not refuse the class. References to the JDK
 * ({@code java.*}, {@code javax.sql.*}, {@code jdk.*}) and to the agent's own helpers are not checked.
 */
final class References {

    /** One reference of an advice class: a type, a field or a method of the library. */
    static final class Ref {
        final String owner;   // internal name
        final String name;    // null for a type reference
        final String descriptor;
        final boolean field;

        Ref(String owner, String name, String descriptor, boolean field) {
            this.owner = owner;
            this.name = name;
            this.descriptor = descriptor;
            this.field = field;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ref && toString().equals(o.toString());
        }

        @Override
        public int hashCode() {
            return toString().hashCode();
        }

        @Override
        public String toString() {
            String type = owner.replace('/', '.');
            if (name == null) {
                return type;
            }
            if (field) {
                return type + "#" + name;
            }
            Type m = Type.getMethodType(descriptor);
            StringBuilder s = new StringBuilder(type).append('#').append(name).append('(');
            Type[] args = m.getArgumentTypes();
            for (int i = 0; i < args.length; i++) {
                s.append(i == 0 ? "" : ", ").append(args[i].getClassName());
            }
            return s.append(')').toString();
        }
    }

    private final ClassFileLocator adviceLocator;
    private final Map<String, List<Ref>> byAdvice = new ConcurrentHashMap<>();

    References(ClassFileLocator adviceLocator) {
        this.adviceLocator = adviceLocator;
    }

    /** The first reference of these advice classes that {@code pool} (the class's own loader) cannot resolve, or null. */
    String firstMissing(Iterable<String> adviceClassNames, TypePool pool) {
        for (String advice : adviceClassNames) {
            for (Ref ref : of(advice)) {
                if (!resolves(ref, pool)) {
                    return ref.toString();
                }
            }
        }
        return null;
    }

    /** The required library references of one advice class, read once from its class file. */
    List<Ref> of(String adviceClassName) {
        return byAdvice.computeIfAbsent(adviceClassName, n -> {
            try {
                return read(adviceLocator.locate(n).resolve());
            } catch (IOException e) {
                throw new IllegalStateException("cannot read advice " + n + ": " + e, e);
            }
        });
    }

    static List<Ref> read(byte[] adviceClass) {
        Set<Ref> refs = new java.util.LinkedHashSet<>();
        new ClassReader(adviceClass).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    private final Set<Label> optionalStarts = new HashSet<>();
                    private final Set<Label> optionalEnds = new HashSet<>();
                    private int optional;

                    @Override
                    public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
                        if ("java/lang/Throwable".equals(type)) {
                            optionalStarts.add(start);
                            optionalEnds.add(end);
                        }
                    }

                    @Override
                    public void visitLabel(Label label) {
                        if (optionalEnds.contains(label)) {
                            optional--;
                        }
                        if (optionalStarts.contains(label)) {
                            optional++;
                        }
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        add(type, null, null, false);
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
                        add(owner, name, descriptor, true);
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                        add(owner, name, descriptor, false);
                    }

                    private void add(String owner, String name, String descriptor, boolean field) {
                        if (optional > 0 || !checked(owner)) {
                            return;
                        }
                        refs.add(new Ref(owner, name, descriptor, field));
                    }
                };
            }
        }, ClassReader.SKIP_FRAMES);
        return new ArrayList<>(refs);
    }

    /** Library types only: not the JDK, not the agent's own helpers, not arrays of either. */
    private static boolean checked(String owner) {
        String type = owner.startsWith("[") ? Type.getType(owner).getElementType().getInternalName() : owner;
        return type.indexOf('/') > 0 && !type.startsWith("java/") && !type.startsWith("javax/sql/")
                && !type.startsWith("jdk/") && !type.startsWith("dev/sessionguard/");
    }

    static boolean resolves(Ref ref, TypePool pool) {
        String owner = ref.owner.startsWith("[") ? Type.getType(ref.owner).getElementType().getClassName()
                : ref.owner.replace('/', '.');
        TypePool.Resolution resolution = pool.describe(owner);
        if (!resolution.isResolved()) {
            return false;
        }
        if (ref.name == null) {
            return true;
        }
        try {
            return found(resolution.resolve(), ref, new HashSet<>());
        } catch (TypePool.Resolution.NoSuchTypeException e) {
            return false; // a supertype is missing: so is what it would have declared
        }
    }

    /** The member in {@code type} or, but for constructors, in one of its supertypes. */
    private static boolean found(TypeDefinition type, Ref ref, Set<String> seen) {
        if (type == null || !seen.add(type.getTypeName())) {
            return false;
        }
        TypeDescription t = type.asErasure();
        if (ref.field) {
            for (FieldDescription.InDefinedShape f : t.getDeclaredFields()) {
                if (f.getName().equals(ref.name) && f.getDescriptor().equals(ref.descriptor)) {
                    return true;
                }
            }
        } else {
            for (MethodDescription.InDefinedShape m : t.getDeclaredMethods()) {
                if (m.getInternalName().equals(ref.name) && m.getDescriptor().equals(ref.descriptor)) {
                    return true;
                }
            }
            if ("<init>".equals(ref.name)) {
                return false;
            }
        }
        if (found(t.getSuperClass(), ref, seen)) {
            return true;
        }
        for (TypeDescription.Generic i : t.getInterfaces()) {
            if (found(i, ref, seen)) {
                return true;
            }
        }
        return false;
    }
}
