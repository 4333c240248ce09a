package dev.sessionguard.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Plain JDBC services under interrupts and pool shutdown: {@code JdbcScenarios <scenario> <database>}.
 * Prints {@code RESULT key=value} lines, like the Hibernate scenarios.
 */
public final class JdbcScenarios {

    private static final Logger QUIET_HIKARI = Logger.getLogger("com.zaxxer.hikari");

    private final String db;
    private final String url;
    private final String user;
    private final String table = "sg_jdbc_" + ProcessHandle.current().pid();
    private final Map<String, String> result = new LinkedHashMap<>();

    private JdbcScenarios(String db) {
        this.db = db;
        switch (db) {
            case "h2": {
                File dir = new File(System.getProperty("sg.dir", "target/h2-" + ProcessHandle.current().pid()));
                dir.mkdirs();
                // durable commits: the committing thread writes the file
                url = "jdbc:h2:file:" + new File(dir, "orders").getAbsolutePath() + ";WRITE_DELAY=0";
                user = "sa";
                break;
            }
            case "hsqldb": // embedded HSQLDB, a file database; every commit written at once
            case "derby": // embedded Apache Derby
            case "sqlite": { // SQLite (xerial), a file
                File dir = new File(System.getProperty("sg.dir", "target/" + db + "-" + ProcessHandle.current().pid()));
                dir.mkdirs();
                String file = new File(dir, "orders").getAbsolutePath();
                url = db.equals("hsqldb") ? "jdbc:hsqldb:file:" + file + ";hsqldb.write_delay=false"
                        : db.equals("derby") ? "jdbc:derby:" + file + ";create=true" : "jdbc:sqlite:" + file + ".db";
                user = db.equals("hsqldb") ? "SA" : "app";
                break;
            }
            case "postgres":
                url = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
                user = System.getProperty("sg.pg.user", "postgres");
                break;
            case "mariadb":
                url = System.getProperty("sg.mariadb.url", "jdbc:mariadb://127.0.0.1:3306/test");
                user = System.getProperty("sg.mariadb.user", "root");
                break;
            case "mysql51": // MySQL Connector/J 5.1 (com.mysql.jdbc): the test swaps its jar in for 8.x
            case "mysql": // MySQL Connector/J against the MariaDB server
                url = System.getProperty("sg.mariadb.url", "jdbc:mariadb://127.0.0.1:3306/test").replace("jdbc:mariadb:", "jdbc:mysql:")
                        + "?useSSL=false&allowPublicKeyRetrieval=true";
                user = System.getProperty("sg.mariadb.user", "root");
                break;
            default:
                throw new IllegalArgumentException("unknown database " + db);
        }
    }

    public static void main(String[] args) throws Exception {
        QUIET_HIKARI.setLevel(Level.SEVERE);
        JdbcScenarios s = new JdbcScenarios(args[1]);
        try {
            s.createTable();
            switch (args[0]) {
                case "h2storm": s.h2Storm(); break;
                case "flag": s.flagSurvives(); break;
                case "slowcommit": s.interruptDuringCommit(args.length > 2 && args[2].equals("virtual")); break;
                case "poolclose": s.poolClosedUnderWorkers(args.length > 2 ? args[2] : "hikari"); break;
                case "deadconn": s.deadConnection(args[2]); break;
                case "hiddencommit": s.commitInsideClose(); break;
                case "subclassinterrupt": s.subclassInterrupt(); break;
                default: throw new IllegalArgumentException("unknown scenario " + args[0]);
            }
        } catch (Throwable t) {
            s.result.put("crash", describe(t));
            t.printStackTrace();
        }
        org.h2.Driver h2 = new org.h2.Driver(); // asked at run time: the tests swap the H2 jar
        s.result.put("h2", h2.getMajorVersion() + "." + h2.getMinorVersion());
        print(s.result);
        s.dropTable();
        System.exit(0);
    }

    static void print(Map<String, String> r) {
        StringBuilder b = new StringBuilder();
        r.forEach((k, v) -> b.append("RESULT ").append(k).append('=').append(v.replace('\n', ' ')).append('\n'));
        System.out.print(b);
        System.out.flush();
    }

    static String describe(Throwable t) {
        if (t == null) {
            return "none";
        }
        String m = String.valueOf(t.getMessage()).replaceAll("@[0-9a-f]{4,}", "@<id>");
        return t.getClass().getName() + ": " + (m.length() > 200 ? m.substring(0, 200) : m);
    }

    private HikariDataSource pool(int size) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url);
        c.setUsername(user);
        c.setPassword("");
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(size);
        c.setPoolName("jdbc-pool");
        c.setConnectionTimeout(5_000);
        return new HikariDataSource(c);
    }

    private Connection direct() throws SQLException {
        return DriverManager.getConnection(url, user, "");
    }

    private void createTable() throws SQLException {
        dropTable();
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null)");
        }
    }

    private void dropTable() {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            // Derby has no "if exists"
            s.execute(db.equals("derby") ? "drop table " + table : "drop table if exists " + table);
        } catch (Exception e) {
            // not there yet, or the scenario broke the database
        }
    }

    private Set<Long> idsInDatabase() {
        Set<Long> ids = new TreeSet<>();
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select id from " + table)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            result.put("readError", describe(e));
        }
        return ids;
    }

    private String usable(HikariDataSource ds) {
        // a query every database takes (Derby and HSQLDB have no "select 1")
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return "yes";
        } catch (Exception e) {
            return "no: " + describe(e);
        }
    }

    private void insert(Connection c, long id) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("insert into " + table + " (id, item) values (" + id + ", 'order " + id + "')");
        }
    }

    // ------------------------------------------------------------------ H2: shutdownNow() on committing workers

    /**
     * Four workers commit orders through Hikari into an embedded H2 file database; {@code shutdownNow()}
     * interrupts them. Each goes on until it has completed one more order with its interrupt flag set, as
     * code that does not check the flag between statements does. Then: is every acknowledged order in the
     * database, and does the database still answer?
     */
    private void h2Storm() throws Exception {
        int workers = 4;
        HikariDataSource ds = pool(workers);
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        Set<String> errors = Collections.synchronizedSet(new TreeSet<>());
        AtomicLong ids = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        CountDownLatch warm = new CountDownLatch(40);
        CountDownLatch interruptedOrders = new CountDownLatch(workers);
        AtomicLong flagsAfter = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        for (int w = 0; w < workers; w++) {
            pool.submit(() -> {
                boolean counted = false;
                while (running.get()) {
                    boolean interruptedAtStart = Thread.currentThread().isInterrupted();
                    long id = ids.incrementAndGet();
                    try (Connection c = ds.getConnection()) {
                        c.setAutoCommit(false);
                        insert(c, id);
                        c.commit();
                        acked.add(id);
                    } catch (SQLException e) {
                        errors.add(describe(e));
                    }
                    warm.countDown();
                    if (interruptedAtStart && !counted) {
                        counted = true;
                        if (Thread.currentThread().isInterrupted()) {
                            flagsAfter.incrementAndGet();
                        }
                        interruptedOrders.countDown();
                    }
                }
            });
        }
        warm.await();
        pool.shutdownNow();
        boolean all = interruptedOrders.await(30, TimeUnit.SECONDS);
        running.set(false);
        pool.awaitTermination(30, TimeUnit.SECONDS);
        Set<Long> found = idsInDatabase();
        long missing = acked.stream().filter(id -> !found.contains(id)).count();
        result.put("acknowledged", String.valueOf(acked.size()));
        result.put("found", String.valueOf(found.size()));
        result.put("ackedMissing", String.valueOf(missing));
        result.put("errors", errors.isEmpty() ? "none" : String.join(" ; ", errors));
        result.put("databaseClosedSeen", String.valueOf(errors.stream().anyMatch(e -> e.contains("The database has been closed"))));
        result.put("everyWorkerInterrupted", String.valueOf(all));
        result.put("flagKept", flagsAfter.get() + " of " + workers);
        result.put("usable", usable(ds));
        result.put("active", String.valueOf(ds.getHikariPoolMXBean().getActiveConnections()));
        ds.close();
    }

    // ------------------------------------------------------------------ Thread subclasses with their own interrupt()

    /**
     * WildFly's threads are JBoss Threads' JBossThread, whose interrupt() spins for as long as an interrupt of
     * the same thread is in progress. A pool of them (EnhancedQueueExecutor, WildFly's) whose task committed to
     * H2 and now waits, outside any call, is stopped with shutdownNow(), as WildFly stops its executors: does
     * shutdownNow() return, and does the task see the interrupt? Then a Thread subclass that counts how often
     * its interrupt() runs, interrupted once in the same state.
     */
    private void subclassInterrupt() throws Exception {
        CountDownLatch committed = new CountDownLatch(1);
        AtomicReference<String> task = new AtomicReference<>("not interrupted");
        org.jboss.threads.EnhancedQueueExecutor pool = new org.jboss.threads.EnhancedQueueExecutor.Builder()
                .setCorePoolSize(1).setMaximumPoolSize(1)
                .setThreadFactory(new org.jboss.threads.JBossThreadFactory(null, Boolean.TRUE, null, "worker-%t", null, null))
                .build();
        pool.execute(commitThenWait(committed, task));
        committed.await(); // its commit returned: from now on it is outside any call
        Thread stopper = new Thread(pool::shutdownNow, "stopper");
        stopper.setDaemon(true);
        stopper.start();
        stopper.join(TimeUnit.SECONDS.toMillis(30));
        result.put("shutdownNowReturned", String.valueOf(!stopper.isAlive()));
        result.put("terminated", String.valueOf(pool.awaitTermination(30, TimeUnit.SECONDS)));
        result.put("jbossTask", task.get());

        AtomicInteger runs = new AtomicInteger();
        result.put("subclassTask", interruptedAfterCommit(work -> new Thread(work, "counted") {
            @Override
            public void interrupt() {
                runs.incrementAndGet();
                super.interrupt();
            }
        }));
        result.put("subclassInterruptRuns", String.valueOf(runs.get()));
        if (Runtime.version().feature() >= 21) {
            // VirtualThread overrides interrupt() too (JDK 21+)
            result.put("virtualTask", interruptedAfterCommit(work -> {
                try {
                    return virtualThread(work);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
    }

    /** A thread made by {@code threads} commits, then waits; it is interrupted once outside the call: what its task saw. */
    private String interruptedAfterCommit(java.util.function.Function<Runnable, Thread> threads) throws InterruptedException {
        CountDownLatch committed = new CountDownLatch(1);
        AtomicReference<String> task = new AtomicReference<>("not interrupted");
        Thread t = threads.apply(commitThenWait(committed, task));
        t.setDaemon(true);
        t.start();
        committed.await();
        t.interrupt();
        t.join(TimeUnit.SECONDS.toMillis(30));
        return task.get();
    }

    /** Commits one row (a guarded call), says so, and waits outside any call until interrupted. */
    private Runnable commitThenWait(CountDownLatch committed, AtomicReference<String> task) {
        return () -> {
            try (Connection c = direct()) {
                c.setAutoCommit(false);
                insert(c, Thread.currentThread().getId());
                c.commit(); // the interrupt shield knows this thread from now on
            } catch (SQLException e) {
                task.set(describe(e));
            }
            committed.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                task.compareAndSet("not interrupted", "interrupted");
            }
        };
    }

    // ------------------------------------------------------------------ the flag through commit, rollback, close

    /** Commit, rollback and close on a thread whose interrupt flag is set: what happens, and is the flag kept? */
    private void flagSurvives() throws Exception {
        List<String> lost = new ArrayList<>();
        for (String op : new String[] {"commit", "rollback", "close"}) {
            Connection c = direct();
            c.setAutoCommit(false);
            insert(c, op.hashCode());
            Thread.currentThread().interrupt();
            String outcome = "ok";
            try {
                switch (op) {
                    case "commit": c.commit(); break;
                    case "rollback": c.rollback(); break;
                    default: c.close();
                }
            } catch (SQLException e) {
                outcome = describe(e);
            }
            boolean flag = Thread.interrupted();
            if (!flag) {
                lost.add(op);
            }
            result.put(op, outcome);
            result.put(op + "Flag", String.valueOf(flag));
            try {
                c.close();
            } catch (SQLException e) {
                // closed by the failure
            }
        }
        result.put("flagLost", lost.isEmpty() ? "none" : String.join(",", lost));
        result.put("rows", String.valueOf(idsInDatabase().size()));
    }

    // ------------------------------------------------------------------ PostgreSQL: an interrupt during commit

    /**
     * A commit that takes a while (a deferred constraint trigger sleeps 1 s at commit time, long enough for the
     * watcher to see the COMMIT and interrupt inside it on a loaded machine) is interrupted
     * by another thread while the worker waits for the server's answer. On virtual threads the PostgreSQL
     * driver's socket is interruptible: without the agent the connection breaks.
     */
    private void interruptDuringCommit(boolean virtual) throws Exception {
        if (!db.equals("postgres")) {
            throw new IllegalArgumentException("slowcommit needs postgres");
        }
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create or replace function " + table + "_slow() returns trigger language plpgsql as "
                    + "$$ begin perform pg_sleep(1.0); return null; end $$");
            s.execute("create constraint trigger " + table + "_slow_commit after insert on " + table
                    + " deferrable initially deferred for each row execute function " + table + "_slow()");
        }
        HikariDataSource ds = pool(2);
        AtomicReference<String> commit = new AtomicReference<>("not run");
        AtomicReference<String> flagAfter = new AtomicReference<>("?");
        AtomicReference<String> next = new AtomicReference<>("not run");
        AtomicReference<String> rollback = new AtomicReference<>("not run");
        AtomicLong backendPid = new AtomicLong();
        CountDownLatch beforeCommit = new CountDownLatch(1);
        Runnable work = () -> {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                backendPid.set(backendId(c));
                insert(c, 1);
                beforeCommit.countDown();
                try {
                    c.commit();
                    commit.set("ok");
                } catch (SQLException e) {
                    commit.set(describe(e));
                    try {
                        c.rollback();
                        rollback.set("ok");
                    } catch (SQLException r) {
                        rollback.set(describe(r));
                    }
                }
            } catch (SQLException e) {
                if ("not run".equals(commit.get())) {
                    commit.set("before commit: " + describe(e));
                }
            }
            flagAfter.set(String.valueOf(Thread.interrupted()));
            try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                rs.next();
                next.set("ok");
            } catch (SQLException e) {
                next.set(describe(e));
            }
        };
        Thread worker = virtual ? virtualThread(work) : new Thread(work, "worker");
        boolean seen = false;
        try (Connection watch = direct()) { // connected before the worker starts: none of the COMMIT's second goes to it
            worker.start();
            beforeCommit.await();
            // the worker is about to commit: wait until the server is executing its COMMIT, then interrupt it
            for (int i = 0; i < 2000 && !seen; i++) {
                try (Statement s = watch.createStatement(); ResultSet rs = s.executeQuery(
                        "select count(*) from pg_stat_activity where pid = " + backendPid.get()
                                + " and state = 'active' and query ilike 'commit%'")) {
                    rs.next();
                    seen = rs.getLong(1) > 0;
                }
                if (!seen) {
                    LockSupport.parkNanos(1_000_000L);
                }
            }
        }
        worker.interrupt();
        worker.join();
        result.put("thread", virtual ? "virtual" : "platform");
        result.put("interruptedInsideCommit", String.valueOf(seen));
        result.put("commit", commit.get());
        result.put("rollback", rollback.get());
        result.put("flagAfter", flagAfter.get());
        result.put("nextGetConnection", next.get());
        result.put("rows", String.valueOf(idsInDatabase().size()));
        ds.close();
    }

    /** Thread.ofVirtual().unstarted(r), by reflection: this program is compiled for Java 17 and run on 21+ for this. */
    private static Thread virtualThread(Runnable r) throws Exception {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        java.lang.reflect.Method unstarted = Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
        return (Thread) unstarted.invoke(builder, r);
    }

    // ------------------------------------------------------------------ HikariCP closed under its workers

    /**
     * Workers are inside transactions when the pool is closed (another component's shutdown). Each then
     * tries to commit, rolls back in catch, closes in finally. Which exception does each caller see?
     */
    private void poolClosedUnderWorkers(String poolKind) throws Exception {
        int workers = 3;
        javax.sql.DataSource ds = poolKind.equals("hikari") ? pool(workers) : dataSource(poolKind, workers);
        result.put("poolClass", wrapped.getOrDefault(ds, ds).getClass().getName());
        CountDownLatch inTx = new CountDownLatch(workers);
        CountDownLatch poolClosed = new CountDownLatch(1);
        List<String> callers = Collections.synchronizedList(new ArrayList<>());
        List<String> cleanups = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        List<Long> backends = Collections.synchronizedList(new ArrayList<>());
        for (int w = 0; w < workers; w++) {
            final int id = w + 1;
            Thread t = new Thread(() -> {
                try {
                    Connection c = ds.getConnection();
                    try {
                        c.setAutoCommit(false);
                        insert(c, id);
                        backends.add(backendId(c));
                        inTx.countDown();
                        poolClosed.await();
                        c.commit();
                    } catch (SQLException e) {
                        try {
                            c.rollback();
                        } catch (SQLException r) {
                            cleanups.add("rollback: " + describe(r));
                            throw r;
                        }
                        throw e;
                    } finally {
                        try {
                            c.close();
                        } catch (SQLException r) {
                            cleanups.add("close: " + describe(r));
                            throw r;
                        }
                    }
                    callers.add("none");
                } catch (Exception e) {
                    callers.add(describe(e));
                }
            }, "worker-" + id);
            threads.add(t);
            t.start();
        }
        inTx.await();
        if (ds instanceof org.apache.tomcat.jdbc.pool.DataSource) {
            // close(true): all connections, those in use too; tomcatclose: close(), which spares those in use
            ((org.apache.tomcat.jdbc.pool.DataSource) ds).close(!poolKind.equals("tomcatclose"));
        } else {
            // the pool's own close(), as the component that owns it calls it at shutdown (not every pool is AutoCloseable)
            Object pool = wrapped.getOrDefault(ds, ds);
            pool.getClass().getMethod("close").invoke(pool);
        }
        if (poolKind.equals("c3p0")) {
            // c3p0's close() destroys the connections in use on its helper threads after it returns: the workers
            // go on once the server has ended their backends, so that each commit meets a destroyed connection
            result.put("backendsLeftAfterClose", String.valueOf(awaitBackendsGone(backends)));
        }
        poolClosed.countDown();
        for (Thread t : threads) {
            t.join();
        }
        result.put("callers", String.join(" ; ", new TreeSet<>(callers)));
        result.put("cleanupEscaped", String.valueOf(cleanups.size()));
        result.put("cleanup", cleanups.isEmpty() ? "none" : cleanups.get(0));
        String active;
        try {
            active = String.valueOf(ds instanceof HikariDataSource && ((HikariDataSource) ds).getHikariPoolMXBean() == null ? 0 : active(ds));
        } catch (Exception e) {
            // c3p0 refuses to count once closed; its message names the pool's identity token, different per run
            active = "n/a, the closed pool says " + describe(e).replaceAll("\\[ identityToken[^\\]]*\\]", "[...]");
        }
        result.put("active", active);
        result.put("rows", String.valueOf(idsInDatabase().size()));
        result.put("openServerTransactions", String.valueOf(openTransactionsOf(backends)));
    }

    // ------------------------------------------------------------------ a backend killed under a pool proxy

    /** A pool of the given kind (hikari, dbcp2, c3p0, tomcat), or none: the driver's own connections. */
    private javax.sql.DataSource dataSource(String kind) throws Exception {
        return dataSource(kind, 2);
    }

    private javax.sql.DataSource dataSource(String kind, int size) throws Exception {
        switch (kind) {
            case "tomcatclose": // the same pool, closed with close() instead of close(true)
            case "tomcat": { // Tomcat JDBC pool: connections are java.lang.reflect.Proxy instances
                org.apache.tomcat.jdbc.pool.PoolProperties p = new org.apache.tomcat.jdbc.pool.PoolProperties();
                p.setUrl(url);
                p.setUsername(user);
                p.setPassword("");
                p.setMaxActive(size);
                p.setMaxIdle(size);
                p.setInitialSize(0);
                p.setMinIdle(0);
                p.setDriverClassName(driverClass());
                return new org.apache.tomcat.jdbc.pool.DataSource(p);
            }
            case "hikari":
                return pool(size);
            case "dbcp2": {
                org.apache.commons.dbcp2.BasicDataSource d = new org.apache.commons.dbcp2.BasicDataSource();
                d.setUrl(url);
                d.setUsername(user);
                d.setPassword("");
                d.setMaxTotal(size);
                return d;
            }
            case "c3p0": {
                com.mchange.v2.c3p0.ComboPooledDataSource d = new com.mchange.v2.c3p0.ComboPooledDataSource();
                d.setJdbcUrl(url);
                d.setUser(user);
                d.setPassword("");
                d.setMaxPoolSize(size);
                d.setMinPoolSize(1);
                d.setInitialPoolSize(1);
                return d;
            }
            case "tomcatdbcp": { // Tomcat's repackaged DBCP (the JNDI pool of Tomcat's context.xml)
                org.apache.tomcat.dbcp.dbcp2.BasicDataSource d = new org.apache.tomcat.dbcp.dbcp2.BasicDataSource();
                d.setUrl(url);
                d.setUsername(user);
                d.setPassword("");
                d.setMaxTotal(size);
                return d;
            }
            case "dbcp1": { // Apache Commons DBCP 1.4 (org.apache.commons.dbcp), still in many legacy WARs
                org.apache.commons.dbcp.BasicDataSource d = new org.apache.commons.dbcp.BasicDataSource();
                d.setDriverClassName(driverClass());
                d.setUrl(url);
                d.setUsername(user);
                d.setPassword("");
                d.setMaxActive(size);
                return d;
            }
            case "druid": { // Alibaba Druid: its exception sorter evicts connections on fatal errors
                com.alibaba.druid.pool.DruidDataSource d = new com.alibaba.druid.pool.DruidDataSource();
                d.setDriverClassName(driverClass());
                d.setUrl(url);
                d.setUsername(user);
                d.setPassword("");
                d.setMaxActive(size);
                d.setTestWhileIdle(false);
                return d;
            }
            case "agroal": { // Agroal (Quarkus, WildFly's successor pool)
                final int max = size;
                return io.agroal.api.AgroalDataSource.from(new io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier()
                        .metricsEnabled(true)
                        .connectionPoolConfiguration(cp -> cp.maxSize(max).connectionFactoryConfiguration(cf -> cf.jdbcUrl(url)
                                .principal(new io.agroal.api.security.NamePrincipal(user))
                                .credential(new io.agroal.api.security.SimplePassword("")))));
            }
            case "vibur": { // Vibur DBCP: connections are java.lang.reflect.Proxy instances
                org.vibur.dbcp.ViburDBCPDataSource d = new org.vibur.dbcp.ViburDBCPDataSource();
                d.setJdbcUrl(url);
                d.setUsername(user);
                d.setPassword("");
                d.setPoolInitialSize(0);
                d.setPoolMaxSize(size);
                d.start();
                return d;
            }
            case "p6spy": { // P6Spy's wrapper over HikariCP (statement logging)
                java.io.File dir = new java.io.File(System.getProperty("sg.dir", "."));
                dir.mkdirs();
                System.setProperty("p6spy.config.logfile", new java.io.File(dir, "spy.log").getPath());
                HikariDataSource inner = pool(size);
                javax.sql.DataSource d = new com.p6spy.engine.spy.P6DataSource(inner);
                wrapped.put(d, inner);
                return d;
            }
            case "dsproxy": { // datasource-proxy over HikariCP: connections are java.lang.reflect.Proxy instances
                HikariDataSource inner = pool(size);
                javax.sql.DataSource d = net.ttddyy.dsproxy.support.ProxyDataSourceBuilder.create(inner).name("dsproxy").build();
                wrapped.put(d, inner);
                return d;
            }
            case "none": {
                return new javax.sql.DataSource() {
                    public Connection getConnection() throws SQLException { return direct(); }
                    public Connection getConnection(String u, String p) throws SQLException { return direct(); }
                    public java.io.PrintWriter getLogWriter() { return null; }
                    public void setLogWriter(java.io.PrintWriter out) { }
                    public void setLoginTimeout(int seconds) { }
                    public int getLoginTimeout() { return 0; }
                    public java.util.logging.Logger getParentLogger() { return null; }
                    public <T> T unwrap(Class<T> iface) { return null; }
                    public boolean isWrapperFor(Class<?> iface) { return false; }
                };
            }
            default:
                throw new IllegalArgumentException("unknown pool " + kind);
        }
    }

    private String driverClass() {
        switch (db) {
            case "postgres": return "org.postgresql.Driver";
            case "mariadb": return "org.mariadb.jdbc.Driver";
            case "mysql51": return "com.mysql.jdbc.Driver";
            case "mysql": return "com.mysql.cj.jdbc.Driver";
            default: return "org.h2.Driver";
        }
    }

    /** The pool under a wrapper (P6Spy, datasource-proxy): what counts connections and is closed. */
    private final Map<javax.sql.DataSource, javax.sql.DataSource> wrapped = new java.util.IdentityHashMap<>();

    private int active(javax.sql.DataSource ds) throws Exception {
        ds = wrapped.getOrDefault(ds, ds);
        if (ds instanceof org.apache.tomcat.dbcp.dbcp2.BasicDataSource) {
            return ((org.apache.tomcat.dbcp.dbcp2.BasicDataSource) ds).getNumActive();
        }
        if (ds instanceof org.apache.commons.dbcp.BasicDataSource) {
            return ((org.apache.commons.dbcp.BasicDataSource) ds).getNumActive();
        }
        if (ds instanceof com.alibaba.druid.pool.DruidDataSource) {
            return ((com.alibaba.druid.pool.DruidDataSource) ds).getActiveCount();
        }
        if (ds instanceof io.agroal.api.AgroalDataSource) {
            return (int) ((io.agroal.api.AgroalDataSource) ds).getMetrics().activeCount();
        }
        if (ds instanceof org.vibur.dbcp.ViburDBCPDataSource) {
            return ((org.vibur.dbcp.ViburDBCPDataSource) ds).getPool().taken();
        }
        if (ds instanceof org.apache.tomcat.jdbc.pool.DataSource) {
            org.apache.tomcat.jdbc.pool.ConnectionPool p = ((org.apache.tomcat.jdbc.pool.DataSource) ds).getPool();
            return p == null ? 0 : p.getActive();
        }
        if (ds instanceof HikariDataSource) {
            return ((HikariDataSource) ds).getHikariPoolMXBean().getActiveConnections();
        }
        if (ds instanceof org.apache.commons.dbcp2.BasicDataSource) {
            return ((org.apache.commons.dbcp2.BasicDataSource) ds).getNumActive();
        }
        if (ds instanceof com.mchange.v2.c3p0.ComboPooledDataSource) {
            return ((com.mchange.v2.c3p0.ComboPooledDataSource) ds).getNumBusyConnectionsDefaultUser();
        }
        return 0;
    }

    /**
     * The database server ends the connection's backend while the application is inside a transaction
     * (a failover, an administrator, an idle timeout). The commit fails; the rollback in catch and the
     * close in finally run on a dead connection. One logical call through a pool proxy and its driver.
     */
    private void deadConnection(String poolKind) throws Exception {
        javax.sql.DataSource ds = dataSource(poolKind);
        String commit = "ok";
        List<String> cleanups = new ArrayList<>();
        String caller = "none";
        try {
            Connection c = ds.getConnection();
            try {
                c.setAutoCommit(false);
                insert(c, 1);
                long backend = backendId(c);
                try (Connection admin = direct(); Statement s = admin.createStatement()) {
                    s.execute(db.equals("postgres") ? "select pg_terminate_backend(" + backend + ")" : "kill " + backend);
                }
                try {
                    c.commit();
                } catch (SQLException e) {
                    commit = describe(e);
                    throw e;
                }
            } catch (SQLException e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    cleanups.add("rollback: " + describe(r));
                    throw r;
                }
                throw e;
            } finally {
                try {
                    c.close();
                } catch (SQLException r) {
                    cleanups.add("close: " + describe(r));
                    throw r;
                }
            }
        } catch (SQLException e) {
            caller = describe(e);
        }
        result.put("pool", poolKind);
        result.put("commit", commit);
        result.put("caller", caller);
        result.put("callerIsCommitFailure", String.valueOf(caller.equals(commit)));
        result.put("cleanupEscaped", String.valueOf(cleanups.size()));
        result.put("cleanup", cleanups.isEmpty() ? "none" : String.join(" ; ", cleanups));
        result.put("active", String.valueOf(active(ds)));
        result.put("rows", String.valueOf(idsInDatabase().size()));
        // the pool's own handling of the broken connection ran: the next borrower gets a working one
        String next;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            rs.next();
            next = "ok";
        } catch (SQLException e) {
            next = describe(e);
        }
        result.put("nextBorrower", next);
        close(wrapped.getOrDefault(ds, ds));
    }

    // ------------------------------------------------------------------ a commit inside close()

    /**
     * A DAO that relies on c3p0's autoCommitOnClose: it writes and closes without commit(). c3p0 commits inside
     * close(), through the driver's setAutoCommit(true). Here the backend dies first: that commit fails, c3p0
     * logs it at FINE and checks the connection in, and close() returns normally. The order is not in the
     * database and nobody was told (#12 hole 1). A second connection, closed with its backend alive, shows
     * that autoCommitOnClose does commit.
     */
    private void commitInsideClose() throws Exception {
        com.mchange.v2.c3p0.ComboPooledDataSource ds = (com.mchange.v2.c3p0.ComboPooledDataSource) dataSource("c3p0");
        ds.setAutoCommitOnClose(true);
        try (Connection control = ds.getConnection()) {
            control.setAutoCommit(false);
            insert(control, 2);
        }
        String close = "ok";
        Connection c = ds.getConnection();
        c.setAutoCommit(false);
        insert(c, 1);
        try (Connection admin = direct(); Statement s = admin.createStatement()) {
            s.execute(db.equals("postgres") ? "select pg_terminate_backend(" + backendId(c) + ")" : "kill " + backendId(c));
        }
        try {
            c.close();
        } catch (SQLException e) {
            close = describe(e);
        }
        Set<Long> ids = idsInDatabase();
        result.put("close", close);
        result.put("controlCommitted", String.valueOf(ids.contains(2L)));
        result.put("orderCommitted", String.valueOf(ids.contains(1L)));
        result.put("active", String.valueOf(active(ds)));
        String next;
        try (Connection n = ds.getConnection(); Statement s = n.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            rs.next();
            next = "ok";
        } catch (SQLException e) {
            next = describe(e);
        }
        result.put("nextBorrower", next);
        ds.close();
    }

    /** Closes a pool, whichever close() it has (DBCP 1.4's BasicDataSource is not AutoCloseable). */
    private static void close(javax.sql.DataSource ds) throws Exception {
        if (ds instanceof AutoCloseable) {
            ((AutoCloseable) ds).close();
        } else if (ds instanceof org.apache.commons.dbcp.BasicDataSource) {
            ((org.apache.commons.dbcp.BasicDataSource) ds).close();
        }
    }

    /** The server's id of this connection's session (PostgreSQL backend pid, MariaDB connection id). */
    private long backendId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                db.equals("postgres") ? "select pg_backend_pid()" : "select connection_id()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Transactions the server still holds open for these sessions: what a leaked connection would keep. Only
     * this scenario's sessions count (other tests share the server); a session the pool has just aborted may
     * take a moment to end on the server, so this waits for 0, at most 10 s, and gives the last count.
     */
    /** Waits, at most 30 s, until none of these PostgreSQL backends is left on the server; how many are left. */
    private long awaitBackendsGone(List<Long> backends) {
        return countUntilZero("select count(*) from pg_stat_activity where pid in (" + ids(backends) + ")", 30);
    }

    /** "1,2,3" */
    private static String ids(List<Long> backends) {
        StringBuilder ids = new StringBuilder();
        for (Long id : backends) {
            ids.append(ids.length() == 0 ? "" : ",").append(id);
        }
        return ids.toString();
    }

    /** Runs the count query until it says 0, at most {@code seconds}: its last answer, -1 when it fails. */
    private long countUntilZero(String q, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long n;
        do {
            try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(q)) {
                rs.next();
                n = rs.getLong(1);
            } catch (SQLException e) {
                return -1;
            }
            if (n > 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polls the server, bounded by the deadline
            }
        } while (n > 0 && System.nanoTime() < deadline);
        return n;
    }

    private long openTransactionsOf(List<Long> backends) {
        if (backends.isEmpty()) {
            return 0;
        }
        String ids = ids(backends);
        return countUntilZero(db.equals("postgres")
                ? "select count(*) from pg_stat_activity where pid in (" + ids + ") and state like 'idle in transaction%'"
                : "select count(*) from information_schema.innodb_trx where trx_mysql_thread_id in (" + ids + ")", 10);
    }
}
