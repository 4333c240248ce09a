package dev.sessionguard.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.function.LongBinaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * The end-to-end workload: a HikariCP pool over H2 in memory and a Hibernate 6.6 session factory over that pool,
 * and the transaction cycles an application runs on them. {@link TransactionCycles} calls the cycles from JMH;
 * {@link Paired} loads one copy of this class with its own HikariCP, H2 and Hibernate per class loader (one the
 * agent weaves, one it leaves as it is) and drives each copy through a JDK interface only:
 * {@code applyAsLong(op, n)} runs operation {@code op} n times.
 */
public final class Workload implements LongBinaryOperator {

    static final int JDBC_COMMIT = 0;
    static final int JDBC_ROLLBACK = 1;
    static final int HIBERNATE_COMMIT = 2;
    /** 1 when rollback() of a closed H2 connection returns (woven: the agent's policy), 0 when it throws. */
    static final int ROLLBACK_AFTER_CLOSE_RETURNS = 3;

    private static final Logger QUIET_HIBERNATE = Logger.getLogger("org.hibernate");
    private static final Logger QUIET_HIKARI = Logger.getLogger("com.zaxxer.hikari");

    private final HikariDataSource pool;
    private final SessionFactory sessionFactory;
    private final String name;
    private long id;

    public Workload(String name) throws SQLException {
        this.name = name;
        QUIET_HIBERNATE.setLevel(Level.SEVERE);
        QUIET_HIKARI.setLevel(Level.SEVERE);
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1");
        c.setDriverClassName("org.h2.Driver"); // this copy's H2: DriverManager would hand both copies the first one registered
        c.setUsername("sa");
        c.setPassword("");
        c.setMaximumPoolSize(2);
        pool = new HikariDataSource(c);
        try (Connection con = pool.getConnection(); Statement s = con.createStatement()) {
            s.execute("create table if not exists orders (id bigint primary key, item varchar(100))");
        }
        Configuration cfg = new Configuration();
        cfg.getProperties().put("hibernate.connection.datasource", pool);
        sessionFactory = cfg.buildSessionFactory();
    }

    @Override
    public long applyAsLong(long op, long n) {
        try {
            long sum = 0;
            for (long i = 0; i < n; i++) {
                if (op == JDBC_COMMIT) {
                    sum += jdbcCycle(true);
                } else if (op == JDBC_ROLLBACK) {
                    sum += jdbcCycle(false);
                } else if (op == HIBERNATE_COMMIT) {
                    sum += hibernateCommit();
                } else {
                    return rollbackAfterClose();
                }
            }
            return sum;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** getConnection, insert, commit or rollback, close: ProxyConnection and JdbcConnection commit/rollback and close. */
    long jdbcCycle(boolean commit) throws SQLException {
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("merge into orders (id, item) key (id) values (?, 'x')")) {
                ps.setLong(1, ++id & 1023);
                ps.executeUpdate();
            }
            if (commit) {
                c.commit();
            } else {
                c.rollback();
            }
        }
        return id;
    }

    /** openSession, begin, native insert, commit, close: Hibernate's TransactionImpl, SessionImpl and the JDBC below. */
    long hibernateCommit() {
        Session s = sessionFactory.openSession();
        try {
            Transaction tx = s.beginTransaction();
            // one statement text, the id bound: 1,024 texts would each be interpreted and cached by Hibernate
            s.createNativeMutationQuery("merge into orders (id, item) key (id) values (?1, 'h')").setParameter(1, ++id & 1023).executeUpdate();
            tx.commit();
        } finally {
            s.close();
        }
        return id;
    }

    void close() {
        sessionFactory.close();
        pool.close();
    }

    /**
     * On H2's own connection, not the pool's: a pool's closed connection hands the call to a java.lang.reflect.Proxy
     * (HikariCP's ClosedConnection) whose class belongs to the JDK's loaders, shared by both copies and woven.
     */
    private long rollbackAfterClose() throws SQLException {
        Connection c = new org.h2.Driver().connect("jdbc:h2:mem:" + name + "-check", new Properties());
        c.setAutoCommit(false);
        c.close();
        try {
            c.rollback();
            return 1;
        } catch (SQLException closed) {
            return 0;
        }
    }
}
