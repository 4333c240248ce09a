package dev.sessionguard.apps;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sessionguard.apps.kit.Storms;
import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * A legacy order service: Hibernate 6.6 (native API), HikariCP, PostgreSQL, six workers. Its shutdown
 * closes the SessionFactory, then the pool. The workload and the storms are {@link Storms}':
 * {@code HikariPostgres <dir> <storm> [seed]}.
 */
public final class HikariPostgres implements Storms.Service {

    static final String URL = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String USER = System.getProperty("sg.pg.user", "postgres");
    static final String PASSWORD = System.getProperty("sg.pg.password", "");
    static final int WORKERS = 6;

    /** Strong references: java.util.logging forgets levels of loggers nobody holds. */
    private static final Logger HIBERNATE_LOG = Logger.getLogger("org.hibernate");
    private static final Logger HIKARI_LOG = Logger.getLogger("com.zaxxer.hikari");

    private final String table = "hp_orders_" + ProcessHandle.current().pid();
    private final HikariDataSource pool;
    private final SessionFactory sf;
    private Storms storms;

    private HikariPostgres() throws SQLException {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(URL);
        hc.setUsername(USER);
        hc.setPassword(PASSWORD);
        hc.setMaximumPoolSize(WORKERS);
        hc.setPoolName("orders");
        hc.setConnectionTimeout(5000);
        pool = new HikariDataSource(hc);
        Configuration cfg = new Configuration();
        cfg.getProperties().put("hibernate.connection.datasource", pool);
        sf = cfg.buildSessionFactory();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: HikariPostgres <dir> <" + String.join("|", Storms.STORMS) + "> [seed]");
            System.exit(2);
        }
        HIBERNATE_LOG.setLevel(Level.SEVERE);
        HIKARI_LOG.setLevel(Level.SEVERE);
        HikariPostgres app = new HikariPostgres();
        app.storms = new Storms(app, new File(args[0]), args[1], args.length > 2 ? Long.parseLong(args[2]) : 20261128L,
                WORKERS, 60, 20);
        app.storms.run();
    }

    // ------------------------------------------------------------------ the service's own code, as found

    /** One order, the way legacy code writes it: rollback in catch, close in finally. */
    @Override
    public void placeOrder(long id, Storms.Hold hold) throws Exception {
        Session session = sf.openSession();
        Transaction tx = null;
        try {
            tx = session.beginTransaction();
            session.createNativeQuery("insert into " + table + " (id, item) values (" + id + ", 'order " + id + "')")
                    .executeUpdate();
            if (hold != null) {
                hold.inside(session.doReturningWork(c -> Storms.backendId(c, backendIdSql())));
            }
            // the remote system answered: the order is confirmed in the same transaction
            session.createNativeQuery("update " + table + " set item = 'confirmed " + id + "' where id = " + id)
                    .executeUpdate();
            tx.commit();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (tx != null) {
                storms.cleanup("rollback", tx::rollback);
            }
            throw e;
        } finally {
            storms.cleanup("close", session::close);
        }
    }

    // ------------------------------------------------------------------ what the storms need

    /** The service's shutdown: the factory first, then the pool (which aborts connections still in use). */
    @Override
    public void closeResources(Collection<Long> held) {
        sf.close();
        pool.close();
    }

    @Override
    public String checkedOut() {
        return pool.isClosed() ? "0 (pool closed)" : String.valueOf(pool.getHikariPoolMXBean().getActiveConnections());
    }

    @Override
    public Connection direct() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }

    @Override
    public String killSql(long backend) {
        return "select pg_terminate_backend(" + backend + ")";
    }

    @Override
    public String backendIdSql() {
        return "select pg_backend_pid()";
    }

    @Override
    public String table() {
        return table;
    }
}
