package dev.sessionguard.demo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sessionguard.apps.kit.Storms;
import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
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
 * The legacy-h2 service (Hibernate 5.6, HikariCP, embedded H2 1.4.200 file database, durable commits)
 * under one storm of {@link Storms}: {@code LegacyH2Storms <dir> <shutdownNow|cancel|exit|poolclose|random> [seed]}.
 * "kill" does not apply (an embedded database has no backend to end); "random" cancels instead.
 * {@link LegacyOrderService} is the same service under the demo's fixed two-step storm.
 */
public final class LegacyH2Storms implements Storms.Service {

    private static final Logger HIBERNATE_LOG = Logger.getLogger("org.hibernate");
    private static final Logger HIKARI_LOG = Logger.getLogger("com.zaxxer.hikari");
    static final int WORKERS = 4;

    private final String url;
    private final String table = "orders_" + ProcessHandle.current().pid();
    private final HikariDataSource pool;
    private final SessionFactory sf;
    private Storms storms;

    private LegacyH2Storms(File dir) throws SQLException {
        dir.mkdirs();
        url = "jdbc:h2:file:" + new File(dir, "orders").getAbsolutePath() + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("sa");
        hc.setMaximumPoolSize(WORKERS + 2);
        hc.setPoolName("orders");
        hc.setConnectionTimeout(5000);
        pool = new HikariDataSource(hc);
        Configuration cfg = new Configuration();
        cfg.getProperties().put("hibernate.connection.datasource", pool);
        sf = cfg.buildSessionFactory();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LegacyH2Storms <dir> <shutdownNow|cancel|exit|poolclose|random> [seed]");
            System.exit(2);
        }
        HIBERNATE_LOG.setLevel(Level.SEVERE);
        HIKARI_LOG.setLevel(Level.SEVERE);
        LegacyH2Storms app = new LegacyH2Storms(new File(args[0]));
        app.storms = new Storms(app, new File(args[0]), args[1], args.length > 2 ? Long.parseLong(args[2]) : 20261128L,
                WORKERS, 40, 20);
        app.storms.run();
    }

    /** One order, the way the legacy code writes it: rollback in catch, close in finally. */
    @Override
    public void placeOrder(long id, Storms.Hold hold) throws Exception {
        Session session = sf.openSession();
        Transaction tx = null;
        try {
            tx = session.beginTransaction();
            session.createNativeQuery("insert into " + table + " (id, item) values (" + id + ", 'order " + id + "')")
                    .executeUpdate();
            if (hold != null) {
                hold.inside(id);
            }
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

    @Override
    public void closeResources(Collection<Long> held) {
        sf.close();
        pool.close();
    }

    @Override
    public String checkedOut() {
        return pool.isClosed() ? "0 (pool closed)" : String.valueOf(pool.getHikariPoolMXBean().getActiveConnections());
    }

    /** Through the service's own pool: what the application sees, not a fresh reopen of the file. */
    @Override
    public String usable() {
        if (pool.isClosed()) {
            return null;
        }
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return "yes";
        } catch (SQLException e) {
            return "no (" + e.getMessage().replaceAll(" \\[.*", "") + ")";
        }
    }

    @Override
    public boolean canKill() {
        return false;
    }

    @Override
    public Connection direct() throws SQLException {
        return DriverManager.getConnection(url, "sa", "");
    }

    @Override
    public String killSql(long backend) {
        throw new UnsupportedOperationException("embedded database");
    }

    @Override
    public String backendIdSql() {
        return "select 0";
    }

    @Override
    public String table() {
        return table;
    }
}
