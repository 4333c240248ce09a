package dev.sessionguard.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The calls the agent wraps, on the normal path (nothing fails, nobody interrupts), as an application makes
 * them: a HikariCP connection to embedded H2 (in memory) committed or rolled back and closed, and a Hibernate
 * 6.6 session doing the same. {@link Compare} runs these in a JVM without and one with the agent.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TransactionCycles {

    private static final Logger QUIET_HIBERNATE = Logger.getLogger("org.hibernate");
    private static final Logger QUIET_HIKARI = Logger.getLogger("com.zaxxer.hikari");

    private HikariDataSource pool;
    private SessionFactory sessionFactory;
    private long id;

    @Setup
    public void setUp() throws Exception {
        QUIET_HIBERNATE.setLevel(java.util.logging.Level.SEVERE);
        QUIET_HIKARI.setLevel(java.util.logging.Level.SEVERE);
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl("jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1");
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

    @TearDown
    public void tearDown() {
        sessionFactory.close();
        pool.close();
    }

    /** getConnection, insert, commit, close: ProxyConnection and JdbcConnection commit and close. */
    @Benchmark
    public long jdbcCommit() throws Exception {
        return jdbcCycle(true);
    }

    /** getConnection, insert, rollback, close. */
    @Benchmark
    public long jdbcRollback() throws Exception {
        return jdbcCycle(false);
    }

    private long jdbcCycle(boolean commit) throws Exception {
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
    @Benchmark
    public long hibernateCommit() {
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
}
