package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link ConnectionMatcher#skipped}: the JDK's classes and the agent's own, but a Proxy class is looked at. */
class ConnectionMatcherTest {

    @Test
    void theJdksAndTheAgentsOwnClassesAreSkippedProxiesAreNot() {
        String[] skipped = {"java/sql/Connection", "javax/sql/PooledConnection", "jdk/internal/misc/Unsafe", "sun/misc/Unsafe",
            "com/sun/rowset/JdbcRowSetImpl", "dev/sessionguard/bootstrap/Guard", "org/x/Dao$$Lambda$12", "com/sun/proxy/$$Lambda$3"};
        String[] looked = {"jdk/proxy2/$Proxy12", "com/sun/proxy/$Proxy3", "org/h2/jdbc/JdbcConnection", "com/zaxxer/hikari/pool/HikariProxyConnection",
            "jdkx/Foo", "javaz/Foo", "sunny/Foo", "dev/other/Foo", "com/sunny/Foo", "", "$Proxy1", "Connection"};
        for (String n : skipped) {
            assertEquals(true, ConnectionMatcher.skipped(n), n);
        }
        for (String n : looked) {
            assertEquals(false, ConnectionMatcher.skipped(n), n);
        }
    }
}
