package dev.sessionguard.scenarios;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;

/**
 * The database of one scenario run: embedded H2 (a file database in {@code sg.dir}) or the PostgreSQL
 * server named by {@code sg.pg.url}. Every run has its own table, so runs can go side by side.
 */
final class Db {

    /** Keep a strong reference: java.util.logging forgets levels of loggers nobody holds. */
    private static final Logger HIBERNATE_LOG = Logger.getLogger("org.hibernate");
    private static final Logger HIKARI_LOG = Logger.getLogger("com.zaxxer.hikari");

    static {
        HIBERNATE_LOG.setLevel(Level.SEVERE);
        HIKARI_LOG.setLevel(Level.SEVERE);
    }

    final String kind;
    final String url;
    final String user;
    final String table;

    Db(String kind) {
        this.kind = kind;
        this.table = "sg_orders_" + ProcessHandle.current().pid();
        if (kind.equals("h2")) {
            File dir = new File(System.getProperty("sg.dir", "target/h2-" + ProcessHandle.current().pid()));
            dir.mkdirs();
            // WRITE_DELAY=0: every commit is written at once, by the committing thread (durable commits)
            this.url = "jdbc:h2:file:" + new File(dir, "orders").getAbsolutePath() + ";WRITE_DELAY=0";
            this.user = "sa";
        } else if (kind.equals("postgres")) {
            this.url = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
            this.user = System.getProperty("sg.pg.user", "postgres");
        } else {
            throw new IllegalArgumentException("unknown database " + kind + " (h2 or postgres)");
        }
    }

    HikariDataSource pool(int size) {
        return pool(size, null);
    }

    /** A pool whose URL carries extra driver parameters ({@code socketTimeout=1}). */
    HikariDataSource pool(int size, String urlParameters) {
        return pool(size, urlParameters, true);
    }

    /** {@code autoCommit}: the pool's connections start in auto-commit mode (HikariCP's default) or not. */
    HikariDataSource pool(int size, String urlParameters, boolean autoCommit) {
        HikariConfig c = new HikariConfig();
        c.setAutoCommit(autoCommit);
        c.setJdbcUrl(urlParameters == null ? url : url + (url.contains("?") ? "&" : "?") + urlParameters);
        c.setUsername(user);
        c.setPassword(System.getProperty("sg.pg.password", ""));
        c.setMaximumPoolSize(size);
        c.setPoolName("orders-pool");
        c.setConnectionTimeout(10_000);
        return new HikariDataSource(c);
    }

    /** Set before {@link #sessionFactory}: the pool's connections come with auto-commit off, and Hibernate is told so. */
    boolean providerDisablesAutoCommit;

    SessionFactory sessionFactory(javax.sql.DataSource ds, boolean jpaCompliance) {
        return sessionFactory(ds, jpaCompliance, false);
    }

    /** With {@code mapped}, {@link OrderRow} is an entity on this run's table (orm.xml: no annotations, so javax and jakarta alike). */
    SessionFactory sessionFactory(javax.sql.DataSource ds, boolean jpaCompliance, boolean mapped) {
        return sessionFactory(ds, jpaCompliance, mapped, null);
    }

    /** The orm.xml schema version: 2.2 from Hibernate 5.3 on, 2.1 before (4.3 to 5.2 refuse 2.2). */
    static final String ORM_XSD = org.hibernate.Version.getVersionString().matches("(4\\.|5\\.[012]\\.).*") ? "2.1" : "2.2";

    /**
     * With a connection provider of the scenario's own instead of the data source (s19 holds the factory's
     * close() where the factory is marked closed and its connection provider is being stopped).
     */
    SessionFactory sessionFactory(javax.sql.DataSource ds, boolean jpaCompliance, boolean mapped,
                                  org.hibernate.engine.jdbc.connections.spi.ConnectionProvider provider) {
        Configuration cfg = new Configuration();
        if (provider != null) {
            cfg.getProperties().put("hibernate.connection.provider_class", provider);
        }
        if (mapped) {
            String ormXml = "<entity-mappings xmlns=\"http://xmlns.jcp.org/xml/ns/persistence/orm\" version=\"" + Db.ORM_XSD + "\">"
                    + "<entity class=\"" + OrderRow.class.getName() + "\" access=\"FIELD\" metadata-complete=\"true\">"
                    + "<table name=\"" + table + "\"/><attributes><id name=\"id\"/><basic name=\"item\"/></attributes>"
                    + "</entity></entity-mappings>";
            cfg.addInputStream(new java.io.ByteArrayInputStream(ormXml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        Properties p = cfg.getProperties();
        if (provider == null) {
            p.put("hibernate.connection.datasource", ds);
        }
        if (providerDisablesAutoCommit) {
            // the pool hands out connections with auto-commit off: Hibernate (5.2.10 on) then takes the connection at
            // the transaction's first statement, not at begin()
            p.put("hibernate.connection.provider_disables_autocommit", "true");
        }
        if (jpaCompliance) {
            p.put("hibernate.jpa.compliance.closed", "true");
            p.put("hibernate.jpa.compliance.transaction", "true");
        }
        return cfg.buildSessionFactory();
    }

    /** A connection of its own, outside pool and Hibernate: to count what really is in the database. */
    Connection direct() throws Exception {
        return DriverManager.getConnection(url, user, System.getProperty("sg.pg.password", ""));
    }

    void createTable() throws Exception {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
    }

    void dropTable() {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("drop table if exists " + table);
        } catch (Exception e) {
            // the database may be the thing the scenario broke
        }
    }

    /** Rows in the table, or -1 when the database cannot be read. */
    long rows() {
        try (Connection c = direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    void insert(Session s, long id) {
        Hib.update(s, "insert into " + table + " (id, item) values (" + id + ", 'order-" + id + "')");
    }

    /**
     * Closes the driver connection under Hibernate and the pool: a backend that died. The pool is told,
     * as Hikari tells itself when a driver reports SQLState 08 (PostgreSQL does; H2's "object already
     * closed" is not recognised, and the dead connection would otherwise go back into the pool).
     */
    void killConnection(Session s, HikariDataSource pool) {
        s.doWork(c -> {
            c.unwrap(Connection.class).close();
            pool.evictConnection(c);
        });
    }

    /** Can the application still use the database through its pool? "yes", or "no: why". */
    static String usable(HikariDataSource ds) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 1")) {
            rs.next();
            return "yes";
        } catch (Exception e) {
            return "no: " + Scenarios.describe(e);
        }
    }

    /** Locks held by a PostgreSQL backend (pg_locks), or -1 on another database. */
    /**
     * Locks of that backend, waiting up to {@code waitMs} for them to go: a pool that aborts a connection closes
     * its socket, and the server lets the backend's locks go only when it has seen that.
     */
    long locksOf(long backendPid, long waitMs) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(waitMs);
        long locks = locksOf(backendPid);
        while (locks > 0 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20));
            locks = locksOf(backendPid);
        }
        return locks;
    }

    long locksOf(long backendPid) {
        if (backendPid < 0) {
            return -1;
        }
        try (Connection c = direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from pg_locks where pid = " + backendPid)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -2;
        }
    }

    /** Can another connection update the row within a second? "yes", or "no: why" (a lock still held). */
    String rowFree(long id) {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute(kind.equals("postgres") ? "set lock_timeout = '1s'" : "set lock_timeout 1000");
            s.executeUpdate("update " + table + " set item = 'checked' where id = " + id);
            return "yes";
        } catch (Exception e) {
            return "no: " + Scenarios.describe(e);
        }
    }
}
