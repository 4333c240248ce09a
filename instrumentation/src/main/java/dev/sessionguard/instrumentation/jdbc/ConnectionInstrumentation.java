package dev.sessionguard.instrumentation.jdbc;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.instrumentation.GuardedCallAdvice;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.dynamic.DynamicType;

/**
 * {@code java.sql.Connection} implementations of drivers and pool proxies, by exact class name:
 * rollback() and close() failures on a closed or aborted connection, at shutdown or under an interrupt
 * are swallowed; commit() failures are logged and always reach the caller; all three run behind the
 * interrupt shield. A pool proxy calling its driver connection is one guarded call: the outermost decides.
 */
public final class ConnectionInstrumentation implements Target {

    private final String[] typeNames;
    private final String[] methodNames;

    private ConnectionInstrumentation(String[] methodNames, String... typeNames) {
        this.typeNames = typeNames;
        this.methodNames = methodNames;
    }

    /** Classes that declare commit(), rollback() and close(). */
    public static ConnectionInstrumentation connections() {
        return new ConnectionInstrumentation(new String[] {"commit", "rollback", "close"},
                "org.h2.jdbc.JdbcConnection",                      // H2 1.4.x and 2.x
                "org.postgresql.jdbc.PgConnection",                // PostgreSQL JDBC 42.x
                "org.mariadb.jdbc.Connection",                     // MariaDB Connector/J 3.x
                "org.mariadb.jdbc.MariaDbConnection",              // MariaDB Connector/J 2.x
                "com.mysql.cj.jdbc.ConnectionImpl",                // MySQL Connector/J 8.x and later
                "com.zaxxer.hikari.pool.ProxyConnection",          // HikariCP
                "org.apache.commons.dbcp2.DelegatingConnection",   // Apache DBCP2
                "com.mchange.v2.c3p0.impl.NewProxyConnection");    // c3p0
    }

    /**
     * Any other {@code java.sql.Connection} implementation the agent finds by its class file (driver, pool,
     * wrapper, generated proxy), for the guarded methods it declares; the class name is the class's own.
     */
    public static ConnectionInstrumentation declaring(boolean commit, boolean rollback, boolean close) {
        java.util.List<String> methods = new java.util.ArrayList<>();
        if (commit) {
            methods.add("commit");
        }
        if (rollback) {
            methods.add("rollback");
        }
        if (close) {
            methods.add("close");
        }
        return new ConnectionInstrumentation(methods.toArray(new String[0]));
    }

    /** Pool classes that override only close(). */
    public static ConnectionInstrumentation closeOverrides() {
        return new ConnectionInstrumentation(new String[] {"close"},
                "org.apache.commons.dbcp2.PoolableConnection",
                "org.apache.commons.dbcp2.PoolingDataSource$PoolGuardConnectionWrapper");
    }

    @Override
    public String group() {
        return "jdbc";
    }

    @Override
    public String[] typeNames() {
        return typeNames.clone();
    }

    @Override
    public String[] methodNames() {
        return methodNames.clone();
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        for (String method : methodNames) {
            builder = builder.visit(advices.to(GuardedCallAdvice.forMethod(method)).on(named(method).and(takesArguments(0))));
        }
        return builder;
    }
}
