package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/**
 * {@link ProxyWeaver} on class files made by this JDK's own ProxyGenerator: the woven class passes the verifier,
 * each woven method hands the handler its own Method, and what the handler throws reaches the caller as the
 * generator's code passes it on (declared and unchecked as they are, anything else wrapped).
 */
class ProxyWeaverTest {

    private static final String NAME = "sgtest/$Proxy7";
    private static final String[] METHODS = {"commit", "rollback", "close"};

    /** The JDK's proxy class file for java.sql.Connection, named {@link #NAME}. */
    private static byte[] generated() throws Exception {
        return generated(Connection.class);
    }

    private static byte[] generated(Class<?> ofInterface) throws Exception {
        Method generate = Class.forName("java.lang.reflect.ProxyGenerator")
                .getDeclaredMethod("generateProxyClass", ClassLoader.class, String.class, List.class, int.class);
        generate.setAccessible(true); // surefire opens java.lang.reflect to this test (agent/pom.xml)
        return (byte[]) generate.invoke(null, ProxyWeaverTest.class.getClassLoader(), NAME.replace('/', '.'),
                Collections.singletonList(ofInterface), java.lang.reflect.Modifier.PUBLIC | java.lang.reflect.Modifier.FINAL);
    }

    /** Methods that pass every Throwable on: the generator writes no handler for them. */
    public interface DeclaresThrowable {
        void commit() throws Throwable;

        void rollback() throws Throwable;

        void close() throws Throwable;
    }

    private static Connection load(byte[] classFile, InvocationHandler h) throws Exception {
        ClassLoader loader = new ClassLoader(ProxyWeaverTest.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (!name.equals(NAME.replace('/', '.'))) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, classFile, 0, classFile.length);
            }
        };
        Class<?> c = Class.forName(NAME.replace('/', '.'), true, loader);
        return (Connection) c.getConstructor(InvocationHandler.class).newInstance(h);
    }

    /** Records the methods the handler is given; throws {@code failure} when set. */
    private static final class Recorder implements InvocationHandler {
        final List<String> called = new ArrayList<>();
        Throwable failure;

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            called.add(method.getName());
            if (failure != null) {
                throw failure;
            }
            return method.getName().equals("isClosed") ? Boolean.FALSE : null;
        }
    }

    private static void checkWoven(byte[] original) throws Exception {
        byte[] woven = ProxyWeaver.weave(NAME, original, METHODS);
        assertNotNull(woven, "the generator's body is recognised");
        Recorder h = new Recorder();
        Connection c = load(woven, h);
        c.commit();
        c.rollback();
        c.close();
        c.isClosed(); // not woven
        assertEquals(List.of("commit", "rollback", "close", "isClosed"), h.called, "each method hands the handler its own Method");

        SQLException declared = new SQLException("declared");
        h.failure = declared;
        assertSame(declared, assertThrows(SQLException.class, c::commit));
        IllegalStateException unchecked = new IllegalStateException("unchecked");
        h.failure = unchecked;
        assertSame(unchecked, assertThrows(IllegalStateException.class, c::rollback));
        StackOverflowError error = new StackOverflowError();
        h.failure = error;
        assertSame(error, assertThrows(StackOverflowError.class, c::close));
        IOException undeclared = new IOException("undeclared");
        h.failure = undeclared;
        assertSame(undeclared, assertThrows(UndeclaredThrowableException.class, c::commit).getCause(), "wrapped as the generator does");

        // and the same without the weaving, for the record of what the generator does
        Recorder plain = new Recorder();
        plain.failure = undeclared;
        assertSame(undeclared, assertThrows(UndeclaredThrowableException.class, load(original, plain)::rollback).getCause());
    }

    @Test
    void wovenProxyVerifiesAndCallsTheHandlerAsTheGeneratorDoes() throws Exception {
        checkWoven(generated());
    }

    /** JDK 8 and 11 write proxy class files of version 49: no stack map frames (the JVM's older verifier). */
    @Test
    void classFileVersion49() throws Exception {
        byte[] b = generated();
        b[6] = 0;
        b[7] = 49;
        checkWoven(b);
        byte[] woven = ProxyWeaver.weave(NAME, b, METHODS);
        assertEquals(49, woven[7], "the version stays");
    }

    @Test
    void onlyTheGuardedMethodsChange() throws Exception {
        byte[] original = generated();
        byte[] woven = ProxyWeaver.weave(NAME, original, METHODS);
        int[] cp = ClassHeader.constants(original);
        int[] wovenCp = ClassHeader.constants(woven);
        assertArrayEquals(Arrays.copyOfRange(original, 10, cp[0]), Arrays.copyOfRange(woven, 10, cp[0]),
                "the constant pool is only appended to: every index stays");
        List<byte[]> before = methods(original, cp);
        List<byte[]> after = methods(woven, wovenCp);
        assertEquals(before.size(), after.size());
        int changed = 0;
        for (int m = 0; m < before.size(); m++) {
            if (!Arrays.equals(before.get(m), after.get(m))) {
                changed++;
            }
        }
        assertEquals(METHODS.length, changed, "commit(), rollback() and close() change, no other method");
        int end = ClassHeader.skipMembers(original, methodsAt(original, cp));
        int wovenEnd = ClassHeader.skipMembers(woven, methodsAt(woven, wovenCp));
        assertArrayEquals(Arrays.copyOfRange(original, end, original.length), Arrays.copyOfRange(woven, wovenEnd, woven.length),
                "the class's own attributes stay");
    }

    private static int methodsAt(byte[] b, int[] cp) {
        int p = cp[0] + 6;
        return ClassHeader.skipMembers(b, p + 2 + 2 * ClassHeader.u2(b, p));
    }

    /** Each method's bytes, in order. */
    private static List<byte[]> methods(byte[] b, int[] cp) {
        int p = methodsAt(b, cp);
        int count = ClassHeader.u2(b, p);
        p += 2;
        List<byte[]> all = new ArrayList<>();
        for (int m = 0; m < count; m++) {
            int end = ClassHeader.skipAttributes(b, p + 6);
            all.add(Arrays.copyOfRange(b, p, end));
            p = end;
        }
        return all;
    }

    /**
     * The woven methods reach the policy with their own operation and site: in protect mode a rollback() or close()
     * that fails on a closed connection returns (swallowed, and logged with the proxy's method as its site), a
     * commit() that fails the same way throws.
     */
    @Test
    void theWovenMethodsReachThePolicyAsCommitRollbackAndClose() throws Exception {
        final List<String> lines = new ArrayList<>();
        dev.sessionguard.bootstrap.EventLog log = new dev.sessionguard.bootstrap.EventLog(dev.sessionguard.bootstrap.EventLog.INFO) {
            @Override
            protected synchronized void write(int level, String line, Throwable stack, Class<?> type) {
                lines.add(line);
            }
        };
        dev.sessionguard.bootstrap.Guard.configure(dev.sessionguard.bootstrap.Guard.MODE_PROTECT, true, 2000, 5000, false, false, log);
        try {
            SQLException closed = new SQLException("The connection is closed", "08003");
            Connection c = load(ProxyWeaver.weave(NAME, generated(), METHODS), (proxy, method, args) -> {
                if (method.getName().equals("isClosed")) {
                    return Boolean.TRUE; // asked by the policy after a failed close(): it did close
                }
                throw closed;
            });
            c.rollback();
            c.close();
            assertSame(closed, assertThrows(SQLException.class, c::commit), "a failed commit always reaches its caller");
            String all = String.join("\n", lines);
            assertTrue(all.contains("rollback.swallowed") && all.contains("sgtest.$Proxy7#rollback"), all);
            assertTrue(all.contains("close.swallowed") && all.contains("sgtest.$Proxy7#close"), all);
            assertTrue(all.contains("commit.failed") && all.contains("sgtest.$Proxy7#commit"), all);
        } finally {
            dev.sessionguard.bootstrap.Guard.setMode(dev.sessionguard.bootstrap.Guard.MODE_OFF);
        }
    }

    /** JDK 15 to 23 write the athrow at 16 for a method declaring Throwable, with no handler: it must not wrap. */
    @Test
    void aMethodThatDeclaresThrowableIsLeftToByteBuddy() throws Exception {
        assertNull(ProxyWeaver.weave(NAME, generated(DeclaresThrowable.class), METHODS));
    }

    /**
     * An interface whose commit() declares {@code n} exception types of its own (each a class defined here), in a
     * loader of its own; returns the generator's proxy class file for it, named {@link #NAME}.
     */
    private static byte[] declaringExceptions(int n) throws Exception {
        java.util.Map<String, byte[]> classes = new java.util.HashMap<>();
        String[] types = new String[n];
        for (int i = 0; i < n; i++) {
            types[i] = "sgtest/E" + i;
            ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
            w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC, types[i], null, "java/lang/Exception", null);
            MethodVisitor init = w.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
            init.visitCode();
            init.visitVarInsn(Opcodes.ALOAD, 0);
            init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Exception", "<init>", "()V", false);
            init.visitInsn(Opcodes.RETURN);
            init.visitMaxs(0, 0);
            init.visitEnd();
            w.visitEnd();
            classes.put(types[i].replace('/', '.'), w.toByteArray());
        }
        ClassWriter w = new ClassWriter(0);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_INTERFACE | Opcodes.ACC_ABSTRACT, "sgtest/ManyExceptions", null, "java/lang/Object", null);
        w.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, "commit", "()V", null, types).visitEnd();
        w.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, "rollback", "()V", null, null).visitEnd();
        w.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, "close", "()V", null, null).visitEnd();
        w.visitEnd();
        classes.put("sgtest.ManyExceptions", w.toByteArray());
        ClassLoader loader = new ClassLoader(ProxyWeaverTest.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                byte[] b = classes.get(name);
                if (b == null) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, b, 0, b.length);
            }
        };
        Method generate = Class.forName("java.lang.reflect.ProxyGenerator")
                .getDeclaredMethod("generateProxyClass", ClassLoader.class, String.class, List.class, int.class);
        generate.setAccessible(true);
        return (byte[]) generate.invoke(null, loader, NAME.replace('/', '.'), Collections.singletonList(loader.loadClass("sgtest.ManyExceptions")),
                java.lang.reflect.Modifier.PUBLIC | java.lang.reflect.Modifier.FINAL);
    }

    /**
     * Each exception type a method passes on takes 7 bytes of the woven code, and a branch jumps over them all with a
     * 16-bit offset: past about 4,680 types that offset wrapped and the woven class failed verification (the host's
     * Proxy.newProxyInstance with it). Such a class goes to Byte Buddy; a hundred types are woven here.
     */
    @Test
    void thousandsOfDeclaredExceptionsAreLeftToByteBuddy() throws Exception {
        assertNotNull(ProxyWeaver.weave(NAME, declaringExceptions(100), METHODS));
        assertTrue(ProxyWeaver.weave(NAME, declaringExceptions(4_700), METHODS) == null, "4,700 types: left to Byte Buddy");
    }

    @Test
    void aBodyThatIsNotTheGeneratorsIsLeftToByteBuddy() throws Exception {
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL, NAME, null, "java/lang/reflect/Proxy", new String[] {"java/sql/Connection"});
        for (String m : METHODS) {
            MethodVisitor v = w.visitMethod(Opcodes.ACC_PUBLIC, m, "()V", null, null);
            v.visitCode();
            v.visitInsn(Opcodes.RETURN);
            v.visitMaxs(0, 0);
            v.visitEnd();
        }
        w.visitEnd();
        assertNull(ProxyWeaver.weave(NAME, w.toByteArray(), METHODS));
        byte[] original = generated();
        assertNull(ProxyWeaver.weave(NAME, original, new String[] {"commit", "abort"}), "a method it does not have");
        assertNull(ProxyWeaver.weave("sgtest/$Proxy8", original, METHODS), "another class's name");
        assertNull(ProxyWeaver.weave(NAME, Arrays.copyOf(original, original.length / 2), METHODS), "truncated");
    }
}
