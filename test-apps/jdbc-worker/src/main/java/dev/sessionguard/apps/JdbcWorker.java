package dev.sessionguard.apps;

import java.io.File;
import java.io.FileWriter;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A legacy batch worker: plain JDBC on MariaDB through Apache DBCP2 or c3p0, four workers on an executor,
 * each placing orders with commit/rollback/close by hand. Every order the worker was told is committed
 * goes to {@code acknowledged.log}. Once 40 orders are in, every worker stops inside its next transaction
 * and the storm hits:
 * <ul>
 *   <li>{@code poolclose}: the pool is closed under the workers (a redeploy, a context closing);</li>
 *   <li>{@code kill}: the server kills every worker's connection (KILL, a failover);</li>
 *   <li>{@code cancel}: {@code Future.cancel(true)} on every worker (a request timeout);</li>
 *   <li>{@code exit}: {@code System.exit} while the workers are inside transactions; the shutdown hook closes the pool;</li>
 *   <li>{@code random}: each worker gets kill, cancel or nothing, chosen by the seed (at least one kill).</li>
 * </ul>
 * Then the workers go on where they can (20 orders each) and the summary is printed as {@code RESULT} lines
 * and written to {@code summary.txt}: {@code JdbcWorker <dir> <dbcp2|c3p0> <storm> [seed]}.
 */
public final class JdbcWorker {

    static final String URL = System.getProperty("sg.mariadb.url", "jdbc:mariadb://127.0.0.1:3306/test");
    static final String USER = System.getProperty("sg.mariadb.user", "root");
    static final int WORKERS = 4;

    private final File dir;
    private final String poolKind;
    private final String storm;
    private final Random random;
    private final String table = "jw_orders_" + ProcessHandle.current().pid();
    private final DataSource pool;
    private final PrintWriter acks;
    private final Set<Long> acked = ConcurrentHashMap.newKeySet();
    private final AtomicInteger attempted = new AtomicInteger();
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<String, Integer> escaped = new TreeMap<>();
    private final Map<String, Integer> callers = new TreeMap<>();
    private final Map<Integer, Long> backends = new ConcurrentHashMap<>();
    private volatile boolean poolClosed;

    private JdbcWorker(File dir, String poolKind, String storm, long seed) throws Exception {
        this.dir = dir;
        this.poolKind = poolKind;
        this.storm = storm;
        this.random = new Random(seed);
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("create table " + table + " (id bigint primary key, item varchar(100) not null) engine=InnoDB");
        }
        this.pool = pool(poolKind);
        this.acks = new PrintWriter(new FileWriter(new File(dir, "acknowledged.log")), true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: JdbcWorker <dir> <dbcp2|c3p0> <poolclose|kill|cancel|exit|random> [seed]");
            System.exit(2);
        }
        File dir = new File(args[0]);
        dir.mkdirs();
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 20261128L;
        System.out.println("seed " + seed);
        java.util.logging.Logger.getLogger("com.mchange").setLevel(java.util.logging.Level.SEVERE);
        System.setProperty("com.mchange.v2.log.MLog", "com.mchange.v2.log.FallbackMLog");
        System.setProperty("com.mchange.v2.log.FallbackMLog.DEFAULT_CUTOFF_LEVEL", "SEVERE");
        new JdbcWorker(dir, args[1], args[2], seed).run();
    }

    static Connection direct() throws SQLException {
        return DriverManager.getConnection(URL, USER, System.getProperty("sg.mariadb.password", ""));
    }

    private static DataSource pool(String kind) throws Exception {
        switch (kind) {
            case "dbcp2": {
                org.apache.commons.dbcp2.BasicDataSource d = new org.apache.commons.dbcp2.BasicDataSource();
                d.setUrl(URL);
                d.setUsername(USER);
                d.setPassword(System.getProperty("sg.mariadb.password", ""));
                d.setMaxTotal(WORKERS);
                d.setMaxWait(java.time.Duration.ofSeconds(5));
                return d;
            }
            case "c3p0": {
                com.mchange.v2.c3p0.ComboPooledDataSource d = new com.mchange.v2.c3p0.ComboPooledDataSource();
                d.setJdbcUrl(URL);
                d.setUser(USER);
                d.setPassword(System.getProperty("sg.mariadb.password", ""));
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
    private void placeOrder(int worker, CountDownLatch inTransaction, CountDownLatch gate) throws Exception {
        long id = ids.incrementAndGet();
        attempted.incrementAndGet();
        Connection c = pool.getConnection();
        try {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into " + table + " (id, item) values (" + id + ", 'order " + id + "')");
                if (inTransaction != null) {
                    try (ResultSet rs = s.executeQuery("select connection_id()")) {
                        rs.next();
                        backends.put(worker, rs.getLong(1));
                    }
                }
            }
            if (inTransaction != null) {
                inTransaction.countDown();
                gate.await(); // a remote call, inside the transaction
            }
            c.commit();
            acked.add(id);
            acks.println(id);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            cleanup("rollback", c::rollback);
            throw e;
        } finally {
            cleanup("close", c::close);
        }
    }

    interface Step {
        void run() throws SQLException;
    }

    private void cleanup(String what, Step step) throws SQLException {
        try {
            step.run();
        } catch (SQLException | RuntimeException e) {
            count(escaped, what + ": " + e.getClass().getSimpleName());
            throw e;
        }
    }

    private static void count(Map<String, Integer> m, String key) {
        synchronized (m) {
            m.merge(key, 1, Integer::sum);
        }
    }

    // ------------------------------------------------------------------ the storm

    private void run() throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        CountDownLatch warmedUp = new CountDownLatch(40);
        CountDownLatch inTransaction = new CountDownLatch(WORKERS);
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(WORKERS);
        List<Future<?>> futures = new ArrayList<>();
        step("placing orders: " + WORKERS + " workers, pool " + poolKind + ", storm " + storm);
        for (int w = 0; w < WORKERS; w++) {
            int worker = w;
            futures.add(workers.submit(() -> {
                try {
                    while (warmedUp.getCount() > 0) {
                        order(worker, null, null);
                        warmedUp.countDown();
                    }
                    order(worker, inTransaction, gate); // stops inside its transaction until the storm is over
                    for (int i = 0; i < 20 && !poolClosed; i++) {
                        order(worker, null, null);
                    }
                } finally {
                    done.countDown();
                }
                return null;
            }));
        }
        if (!inTransaction.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("workers never got inside their transactions");
        }
        step("storm: " + storm);
        switch (storm) {
            case "poolclose":
                closePool();
                awaitBackendsClosed();
                break;
            case "kill":
                for (int w = 0; w < WORKERS; w++) {
                    kill(backends.get(w));
                }
                break;
            case "cancel":
                futures.forEach(f -> f.cancel(true));
                break;
            case "random":
                int killed = random.nextInt(WORKERS); // at least one: the storm is never empty
                for (int w = 0; w < WORKERS; w++) {
                    int pick = w == killed ? 0 : random.nextInt(3);
                    step("  worker " + w + ": " + (pick == 0 ? "kill" : pick == 1 ? "cancel" : "nothing"));
                    if (pick == 0) {
                        kill(backends.get(w));
                    } else if (pick == 1) {
                        futures.get(w).cancel(true);
                    }
                }
                break;
            case "exit":
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    closePool();
                    awaitBackendsClosed();
                    gate.countDown();
                    awaitQuietly(done);
                    summary("exit");
                }, "worker-shutdown"));
                System.exit(0);
                return;
            default:
                throw new IllegalArgumentException("unknown storm " + storm);
        }
        gate.countDown();
        awaitQuietly(done);
        workers.shutdown();
        summary("normal");
        closePool();
        System.exit(0);
    }

    private void order(int worker, CountDownLatch inTransaction, CountDownLatch gate) {
        try {
            placeOrder(worker, inTransaction, gate);
        } catch (Exception e) {
            String m = String.valueOf(e.getMessage());
            count(callers, e.getClass().getSimpleName() + ": " + (m.length() > 60 ? m.substring(0, 60) : m));
        }
    }

    private void kill(Long backend) {
        try (Connection admin = direct(); Statement s = admin.createStatement()) {
            s.execute("kill " + backend);
        } catch (SQLException e) {
            step("  kill " + backend + " failed: " + e.getMessage());
        }
    }

    private synchronized void closePool() {
        if (poolClosed) {
            return;
        }
        poolClosed = true;
        try {
            if (pool instanceof org.apache.commons.dbcp2.BasicDataSource) {
                ((org.apache.commons.dbcp2.BasicDataSource) pool).close();
            } else {
                ((com.mchange.v2.c3p0.ComboPooledDataSource) pool).close();
            }
        } catch (Exception e) {
            step("closing the pool failed: " + e);
        }
    }

    /**
     * c3p0 closes checked-out connections too, on its own threads: the workers go on once the server no
     * longer lists their connections (bounded). DBCP2 leaves checked-out connections open until they are
     * returned, so there is nothing to wait for.
     */
    private void awaitBackendsClosed() {
        if (!(pool instanceof com.mchange.v2.c3p0.ComboPooledDataSource)) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String ids = backends.values().stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse("0");
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
        step("the pool's connections were still open after 15 s");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                step("workers still running after 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Connections the application still has checked out, from the pool's own count. */
    private String checkedOut() {
        try {
            if (pool instanceof org.apache.commons.dbcp2.BasicDataSource) {
                return String.valueOf(((org.apache.commons.dbcp2.BasicDataSource) pool).getNumActive());
            }
            return String.valueOf(((com.mchange.v2.c3p0.ComboPooledDataSource) pool).getNumBusyConnectionsDefaultUser());
        } catch (Exception e) {
            return "0 (pool closed)";
        }
    }

    private void summary(String how) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("attempted", String.valueOf(attempted.get()));
        s.put("acknowledged", String.valueOf(acked.size()));
        Set<Long> found = new TreeSet<>();
        String usable = "yes";
        try (Connection c = direct(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select id from " + table)) {
            while (rs.next()) {
                found.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            usable = "no (" + e.getMessage() + ")";
        }
        s.put("rowsFound", String.valueOf(found.size()));
        s.put("ackedMissing", String.valueOf(acked.stream().filter(id -> !found.contains(id)).count()));
        int escapes;
        synchronized (escaped) {
            escapes = escaped.values().stream().mapToInt(Integer::intValue).sum();
            s.put("escapedCleanup", String.valueOf(escapes));
            s.put("escapedByClass", escaped.isEmpty() ? "none" : escaped.toString());
        }
        synchronized (callers) {
            s.put("callersSaw", callers.isEmpty() ? "none" : callers.toString());
        }
        s.put("checkedOut", checkedOut());
        s.put("usable", usable);
        s.put("exit", how);
        StringBuilder b = new StringBuilder();
        s.forEach((k, v) -> b.append("RESULT ").append(k).append('=').append(v).append('\n'));
        System.out.print(b);
        System.out.flush();
        try (PrintWriter w = new PrintWriter(new FileWriter(new File(dir, "summary.txt")))) {
            s.forEach((k, v) -> w.println(k + "=" + v));
        } catch (Exception e) {
            e.printStackTrace();
        }
        acks.close();
        try (Connection c = direct(); Statement st = c.createStatement()) {
            st.execute("drop table if exists " + table);
        } catch (SQLException e) {
            // reported above as not usable
        }
    }

    private static void step(String what) {
        System.out.println("  .. " + what);
        System.out.flush();
    }
}
