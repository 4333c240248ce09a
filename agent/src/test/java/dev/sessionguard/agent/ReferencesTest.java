package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Collections;
import java.util.List;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.pool.TypePool;
import org.example.lib.Library;
import org.junit.jupiter.api.Test;

/**
 * The reference check (References): a library version whose class lacks a method the advice calls is found
 * before weaving and named; a call inside a try that catches Throwable is optional; inherited members count.
 * The "library" is a class of these tests, served to the check with and without some of its methods.
 */
class ReferencesTest {

    /** An advice-shaped class: calls into the library, one call guarded as optional. */
    public static final class SampleAdvice {
        public static int enter(Object self) {
            Library lib = (Library) self;
            lib.required();
            try {
                lib.newer(); // optional: the advice does without it
            } catch (Throwable older) {
                // an older version
            }
            return lib.inherited("x");
        }
    }

    private final References references = new References(ClassFileLocator.ForClassLoader.of(ReferencesTest.class.getClassLoader()));
    private static final List<String> ADVICE = Collections.singletonList(SampleAdvice.class.getName());

    @Test
    void everyMemberPresentPasses() throws IOException {
        assertNull(references.firstMissing(ADVICE, pool(library(null))));
    }

    @Test
    void aMissingMethodIsNamed() throws IOException {
        assertEquals("org.example.lib.Library#required()", references.firstMissing(ADVICE, pool(library("required"))));
    }

    @Test
    void aMethodCalledInsideATryThatCatchesThrowableIsOptional() throws IOException {
        assertNull(references.firstMissing(ADVICE, pool(library("newer"))));
    }

    @Test
    void aMissingTypeIsNamed() {
        TypePool empty = TypePool.Default.of(ClassFileLocator.NoOp.INSTANCE);
        assertEquals("org.example.lib.Library", references.firstMissing(ADVICE, empty));
    }

    @Test
    void theHibernateAdviceNeedsWhatItCallsButNotWhatItCanDoWithout() {
        List<References.Ref> refs = references.of("dev.sessionguard.instrumentation.hibernate.TransactionInstrumentation$CommitAdvice");
        String all = refs.toString();
        assertTrue(all.contains("org.hibernate.engine.spi.SharedSessionContractImplementor#getJdbcCoordinator()"), all);
        assertTrue(all.contains("org.hibernate.resource.transaction.spi.TransactionStatus#MARKED_ROLLBACK"), all);
        assertFalse(all.contains("getPersistenceContextInternal"), "inside a try that catches Throwable: " + all);
        assertFalse(all.contains("dev.sessionguard") || all.contains("java.util"), "the agent's helpers and the JDK are not checked: " + all);
    }

    /** Library's class file, without the method {@code drop} (null: whole). */
    private static byte[] library(String drop) throws IOException {
        byte[] bytes = ClassFileLocator.ForClassLoader.read(Library.class);
        ClassWriter w = new ClassWriter(0);
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9, w) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return name.equals(drop) ? null : super.visitMethod(access, name, descriptor, signature, exceptions);
            }
        }, 0);
        return w.toByteArray();
    }

    /** The class's own loader as the check sees it: Library as given, the rest (LibraryBase, the JDK) from the test's. */
    private static TypePool pool(byte[] library) {
        return TypePool.Default.of(new ClassFileLocator.Compound(ClassFileLocator.Simple.of(Library.class.getName(), library),
                ClassFileLocator.ForClassLoader.of(ReferencesTest.class.getClassLoader())));
    }
}
