package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URL;
import java.net.URLClassLoader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/**
 * {@link ConnectionMatcher#skipped}: the JDK's classes and the agent's own, but a Proxy class is looked at, and a
 * com.sun class only when the JDK's own loaders define it (an application server's are its own: GlassFish, Payara).
 */
class ConnectionMatcherTest {

    @Test
    void theJdksAndTheAgentsOwnClassesAreSkippedProxiesAreNot() {
        String[] skipped = {"java/sql/Connection", "javax/sql/PooledConnection", "jdk/internal/misc/Unsafe", "sun/misc/Unsafe",
            "dev/sessionguard/bootstrap/Guard", "org/x/Dao$$Lambda$12", "com/sun/proxy/$$Lambda$3"};
        String[] looked = {"jdk/proxy2/$Proxy12", "com/sun/proxy/$Proxy3", "org/h2/jdbc/JdbcConnection", "com/zaxxer/hikari/pool/HikariProxyConnection",
            "jdkx/Foo", "javaz/Foo", "sunny/Foo", "dev/other/Foo", "com/sunny/Foo", "", "$Proxy1", "Connection"};
        for (boolean jdk : new boolean[] {true, false}) {
            for (String n : skipped) {
                assertEquals(true, ConnectionMatcher.skipped(n, jdk), n);
            }
            for (String n : looked) {
                assertEquals(false, ConnectionMatcher.skipped(n, jdk), n);
            }
        }
        assertEquals(true, ConnectionMatcher.skipped("com/sun/rowset/JdbcRowSetImpl", true));
        assertEquals(false, ConnectionMatcher.skipped("com/sun/gjc/spi/jdbc40/ConnectionHolder40", false));
    }

    /** GlassFish's and Payara's wrapper of every pooled connection: its class name is com.sun.gjc.spi's. */
    @Test
    void anApplicationServersComSunConnectionWrapperIsMatched() throws Exception {
        String name = "com/sun/gjc/spi/jdbc40/ConnectionHolder40";
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        w.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, name, null, "java/lang/Object", new String[] {"java/sql/Connection"});
        MethodVisitor commit = w.visitMethod(Opcodes.ACC_PUBLIC, "commit", "()V", null, new String[] {"java/sql/SQLException"});
        commit.visitCode();
        commit.visitInsn(Opcodes.RETURN);
        commit.visitMaxs(0, 0);
        commit.visitEnd();
        w.visitEnd();
        byte[] bytes = w.toByteArray();
        try (URLClassLoader server = new URLClassLoader(new URL[0], getClass().getClassLoader())) {
            assertNotNull(new ConnectionMatcher().match(server, null, name, bytes), "the server's loader: matched");
        }
        assertNull(new ConnectionMatcher().match(null, null, name, bytes), "the bootstrap loader: the JDK's, skipped");
    }
}
