package dev.sessionguard.apps;

import dev.sessionguard.apps.kit.Storms;
import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A legacy batch worker: plain JDBC on MariaDB through Apache DBCP2 or c3p0, four workers, each placing
 * orders with commit/rollback/close by hand. The workload and the storms are {@link Storms}':
 * {@code JdbcWorker <dir> <dbcp2|c3p0> <storm> [seed]}.
 */
public final class JdbcWorker implements Storms.Service {

    static final String URL = System.getProperty("sg.mariadb.url", "jdbc:mariadb://127.0.0.1:3306/test");
    static final String USER = System.getProperty("sg.mariadb.user", "root");
    static final String PASSWORD = System.getProperty("sg.mariadb.password", "");
    static final int WORKERS = 4;

    private final String table = "jw_orders_" + ProcessHandle.current().pid();
    private final DataSource pool;
    private Storms storms;

    private JdbcWorker(String poolKind) throws Exception {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null) engine=InnoDB");
        }
        this.pool = pool(poolKind);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: JdbcWorker <dir> <dbcp2|c3p0> <" + String.join("|", Storms.STORMS) + "> [seed]");
            System.exit(2);
        }
        System.setProperty("com.mchange.v2.log.MLog", "com.mchange.v2.log.FallbackMLog");
        System.setProperty("com.mchange.v2.log.FallbackMLog.DEFAULT_CUTOFF_LEVEL", "SEVERE");
        JdbcWorker app = new JdbcWorker(args[1]);
        app.storms = new Storms(app, new File(args[0]), args[2], args.length > 3 ? Long.parseLong(args[3]) : 20261128L,
                WORKERS, 40, 20);
        app.storms.run();
    }

    private static DataSource pool(String kind) {
        switch (kind) {
            case "dbcp2": {
                org.apache.commons.dbcp2.BasicDataSource d = new org.apache.commons.dbcp2.BasicDataSource();
                d.setUrl(URL);
                d.setUsername(USER);
                d.setPassword(PASSWORD);
                d.setMaxTotal(WORKERS);
                d.setMaxWait(java.time.Duration.ofSeconds(5));
                return d;
            }
            case "c3p0": {
                com.mchange.v2.c3p0.ComboPooledDataSource d = new com.mchange.v2.c3p0.ComboPooledDataSource();
                d.setJdbcUrl(URL);
                d.setUser(USER);
                d.setPassword(PASSWORD);
                d.setMaxPoolSize(WORKERS);
                d.setMinPoolSize(1);
                d.setInitialPoolSize(1);
                d.setCheckoutTimeout(5000);
                return d;
            }
            default:
                throw new IllegalArgumentException("unknown pool " + kind + " (dbcp2 or c3p0)");
        }
    }

    // ------------------------------------------------------------------ the service's own code, as found

    /** One order: rollback in catch, close in finally, as the legacy code does it. */
    @Override
    public void placeOrder(long id, Storms.Hold hold) throws Exception {
        Connection c = pool.getConnection();
        try {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into " + table + " (id, item) values (" + id + ", 'order " + id + "')");
            }
            if (hold != null) {
                hold.inside(Storms.backendId(c, backendIdSql()));
            }
            c.commit();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            storms.cleanup("rollback", c::rollback);
            throw e;
        } finally {
            storms.cleanup("close", c::close);
        }
    }

    // ------------------------------------------------------------------ what the storms need

    @Override
    public void closeResources(Collection<Long> held) {
        try {
            if (pool instanceof org.apache.commons.dbcp2.BasicDataSource) {
                // DBCP2 leaves checked-out connections open until they are returned
                ((org.apache.commons.dbcp2.BasicDataSource) pool).close();
            } else {
                ((com.mchange.v2.c3p0.ComboPooledDataSource) pool).close();
                awaitClosed(held);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** c3p0 closes checked-out connections too, on its own threads: done when the server no longer lists them. */
    private void awaitClosed(Collection<Long> held) {
        if (held.isEmpty()) {
            return;
        }
        String ids = held.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("0");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try (Connection c = direct(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from information_schema.processlist where id in (" + ids + ")")) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    return;
                }
            } catch (SQLException e) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        Storms.step("the pool's connections were still open after 15 s");
    }

    @Override
    public String checkedOut() {
        try {
            if (pool instanceof org.apache.commons.dbcp2.BasicDataSource) {
                return String.valueOf(((org.apache.commons.dbcp2.BasicDataSource) pool).getNumActive());
            }
            return String.valueOf(((com.mchange.v2.c3p0.ComboPooledDataSource) pool).getNumBusyConnectionsDefaultUser());
        } catch (Exception e) {
            return "0 (pool closed)";
        }
    }

    @Override
    public Connection direct() throws SQLException {
        return DriverManager.getConnection(URL, USER, PASSWORD);
    }

    @Override
    public String killSql(long backend) {
        return "kill " + backend;
    }

    @Override
    public String backendIdSql() {
        return "select connection_id()";
    }

    @Override
    public String table() {
        return table;
    }
}
