package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/**
 * {@link ClassHeader#shape}: what a class file the JVM rebuilds for a retransformation keeps, and weaving changes.
 * {@link ClassHeader#read}: which classes are candidates.
 */
class ClassHeaderTest {

    /** A class with a field and the methods named, in that order; {@code longer} gets one more instruction. */
    private static byte[] sample(String longer, String... methods) {
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, "x/Sample", null, "java/lang/Object", new String[] {"java/lang/Runnable"});
        w.visitField(Opcodes.ACC_PRIVATE, "state", "I", null, null).visitEnd();
        for (String m : methods) {
            MethodVisitor v = w.visitMethod(Opcodes.ACC_PUBLIC, m, "()V", null, null);
            v.visitCode();
            if (m.equals(longer)) {
                v.visitInsn(Opcodes.NOP);
            }
            v.visitInsn(Opcodes.RETURN);
            v.visitMaxs(0, 0);
            v.visitEnd();
        }
        w.visitEnd();
        return w.toByteArray();
    }

    @Test
    void theSameInAnyMemberOrder() {
        byte[] a = sample(null, "run", "commit", "close");
        byte[] b = sample(null, "close", "run", "commit");
        assertFalse(Arrays.equals(a, b));
        assertEquals(ClassHeader.shape(a), ClassHeader.shape(b));
    }

    @Test
    void wovenCodeChangesIt() {
        assertNotEquals(ClassHeader.shape(sample(null, "run", "commit")), ClassHeader.shape(sample("commit", "run", "commit")));
    }

    /** A class whose one method pushes a constant with {@code opcode} and drops it: the same length either way. */
    private static byte[] pushing(int opcode) {
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, "x/Sample", null, "java/lang/Object", null);
        MethodVisitor v = w.visitMethod(Opcodes.ACC_PUBLIC, "commit", "()V", null, null);
        v.visitCode();
        v.visitInsn(opcode);
        v.visitInsn(Opcodes.POP);
        v.visitInsn(Opcodes.RETURN);
        v.visitMaxs(0, 0);
        v.visitEnd();
        w.visitEnd();
        return w.toByteArray();
    }

    @Test
    void codeOfTheSameLengthChangesIt() {
        assertEquals(ClassHeader.shape(pushing(Opcodes.ICONST_0)), ClassHeader.shape(pushing(Opcodes.ICONST_0)));
        assertNotEquals(ClassHeader.shape(pushing(Opcodes.ICONST_0)), ClassHeader.shape(pushing(Opcodes.ICONST_1)));
    }

    @Test
    void anotherMethodChangesIt() {
        assertNotEquals(ClassHeader.shape(sample(null, "run", "commit")), ClassHeader.shape(sample(null, "run", "rollback")));
        assertNotEquals(ClassHeader.shape(sample(null, "run", "commit")), ClassHeader.shape(sample(null, "run", "commit", "close")));
    }

    @Test
    void malformedIsMinusOne() {
        byte[] a = sample(null, "run");
        assertEquals(-1, ClassHeader.shape(Arrays.copyOf(a, a.length / 2)));
        assertEquals(-1, ClassHeader.shape(new byte[] {1, 2, 3}));
    }

    /** A class {@code x/C} (abstract when a method is) with one method {@code name} of {@code descriptor}. */
    private static byte[] declaring(int access, String name, String descriptor, boolean isInterface) {
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        int kind = isInterface ? Opcodes.ACC_INTERFACE | Opcodes.ACC_ABSTRACT : (access & Opcodes.ACC_ABSTRACT);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | kind, "x/C", null, "java/lang/Object", new String[] {"java/lang/AutoCloseable"});
        MethodVisitor v = w.visitMethod(access, name, descriptor, null, null);
        if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0) {
            v.visitCode();
            v.visitInsn(Opcodes.RETURN);
            v.visitMaxs(0, 0);
        }
        v.visitEnd();
        w.visitEnd();
        return w.toByteArray();
    }

    @Test
    void onlyAConcreteInstanceMethodWithoutArgumentsIsACandidate() {
        int pub = Opcodes.ACC_PUBLIC;
        for (String name : new String[] {"close", "commit", "rollback"}) {
            assertNotNull(ClassHeader.read(declaring(pub, name, "()V", false), true), name);
            assertNotNull(ClassHeader.read(declaring(pub | Opcodes.ACC_FINAL | Opcodes.ACC_SYNCHRONIZED, name, "()V", false), true), name);
            assertNull(ClassHeader.read(declaring(pub | Opcodes.ACC_STATIC, name, "()V", false), true), name);
            assertNull(ClassHeader.read(declaring(pub | Opcodes.ACC_ABSTRACT, name, "()V", false), true), name);
            assertNull(ClassHeader.read(declaring(pub | Opcodes.ACC_NATIVE, name, "()V", false), true), name);
            assertNull(ClassHeader.read(declaring(pub, name, "(I)V", false), true), name);
            assertNull(ClassHeader.read(declaring(pub, name, "()Z", false), true), name);
            assertNull(ClassHeader.read(declaring(pub, name, "()V", true), true), name); // a default method
        }
        assertNull(ClassHeader.read(declaring(pub, "closed", "()V", false), true));
        assertEquals(ClassHeader.CLOSE, ClassHeader.read(declaring(pub, "close", "()V", false), true).declared);
        assertEquals("java/lang/Object", ClassHeader.read(declaring(pub, "commit", "()V", false), true).superName);
    }
}
