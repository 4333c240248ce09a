package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Arrays;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/** {@link ClassHeader#shape}: what a class file the JVM rebuilds for a retransformation keeps, and weaving changes. */
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
}
