package dev.sessionguard.apps.kit;

import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.sql.Connection;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * The workload and the storms of the legacy test apps. An app supplies its order code ({@link Service});
 * this runs it on worker threads, acknowledges every order the service says is committed in
 * {@code acknowledged.log}, and once {@code warmup} orders are in, stops every worker inside its next
 * transaction and hits them with the storm:
 * <ul>
 *   <li>{@code shutdownNow}: the workers' executor is stopped with shutdownNow() (interrupts);</li>
 *   <li>{@code cancel}: {@code Future.cancel(true)} on every worker (a request timeout);</li>
 *   <li>{@code exit}: {@code System.exit} while the workers are inside transactions; the shutdown hook closes
 *       what the service closes at shutdown (factory, pool), then lets the workers finish;</li>
 *   <li>{@code poolclose}: the pool (and factory) closed under the workers (a redeploy, a context closing);</li>
 *   <li>{@code kill}: the database server ends every worker's connection (pg_terminate_backend, KILL);</li>
 *   <li>{@code random}: each worker gets kill, cancel or nothing, from the seed (at least one kill).</li>
 * </ul>
 * Then the workers go on where they can and the summary is printed as {@code RESULT key=value} lines and
 * written to {@code summary.txt}: attempted, acknowledged, rows found, acknowledged but missing, exceptions
 * that escaped cleanup by class, what the callers saw, connections left checked out, database usable.
 */
public final class Storms {

    public static final String[] STORMS = {"shutdownNow", "cancel", "exit", "poolclose", "kill", "random"};

    /** What an app supplies. */
    public interface Service {
        /**
         * One order, written as the app's legacy code writes it; returns normally when the service was told
         * it is committed. With a {@code hold}, it calls {@link Hold#inside} inside the transaction.
         */
        void placeOrder(long id, Hold hold) throws Exception;

        /**
         * What the service's shutdown closes (its factory, its pool). {@code held} are the backends of the
         * connections the workers hold inside their transactions right now.
         */
        void closeResources(java.util.Collection<Long> held);

        /** Connections the application has checked out, from the pool's own count. */
        String checkedOut();

        /** A connection of its own, outside the service: to count rows and to kill backends. */
        Connection direct() throws SQLException;

        /** The SQL that ends a backend, and the SQL that tells the current backend's id. */
        String killSql(long backend);

        String backendIdSql();

        /** The table the orders go to. */
        String table();

        /** False for an embedded database, which has no backend to end: "kill" does not apply, "random" cancels instead. */
        default boolean canKill() {
            return true;
        }

        /** Whether the application can still use its database ("yes", or "no (why)"); null: ask {@link #direct}. */
        default String usable() {
            return null;
        }
    }

    /** Handed to an order that is to stop inside its transaction until the storm is over. */
    public static final class Hold {
        private final int worker;
        private final Storms storms;

        Hold(int worker, Storms storms) {
            this.worker = worker;
            this.storms = storms;
        }

        /** Call inside the transaction with the backend id of its connection; returns when the storm is over. */
        public void inside(long backend) throws InterruptedException {
            storms.backends.put(worker, backend);
            storms.inTransaction.countDown();
            storms.gate.await(); // a remote call, inside the transaction
        }
    }

    private final Service service;
    private final File dir;
    private final String storm;
    private final Random random;
    private final int workers;
    private final int warmup;
    private final int after;
    private final PrintWriter acks;
    private final Set<Long> acked = ConcurrentHashMap.newKeySet();
    private final AtomicInteger attempted = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final Map<String, Integer> escaped = new TreeMap<>();
    private final Map<String, Integer> callers = new TreeMap<>();
    private final Map<Integer, Long> backends = new ConcurrentHashMap<>();
    private final CountDownLatch inTransaction;
    private final CountDownLatch gate = new CountDownLatch(1);
    private volatile boolean closed;

    public Storms(Service service, File dir, String storm, long seed, int workers, int warmup, int after) throws IOException {
        if (!java.util.Arrays.asList(STORMS).contains(storm)) {
            throw new IllegalArgumentException("unknown storm " + storm + "; storms are " + String.join(", ", STORMS));
        }
        this.service = service;
        this.dir = dir;
        this.storm = storm;
        this.random = new Random(seed);
        this.workers = workers;
        this.warmup = warmup;
        this.after = after;
        this.inTransaction = new CountDownLatch(workers);
        dir.mkdirs();
        this.acks = new PrintWriter(new FileWriter(new File(dir, "acknowledged.log")), true);
        System.out.println("seed " + seed);
    }

    /** A cleanup step of the legacy code (rollback, close): what escapes it is counted and thrown on. */
    public <E extends Exception> void cleanup(String what, Step<E> step) throws E {
        try {
            step.run();
        } catch (Exception e) {
            count(escaped, what + ": " + e.getClass().getSimpleName());
            throw e;
        }
    }

    /** A cleanup that a framework ran and whose failure reached the caller (Spring's rollback on exception). */
    public void escapedCleanup(String what) {
        count(escaped, what);
    }

    /** A cleanup step. */
    public interface Step<E extends Exception> {
        void run() throws E;
    }

    private static void count(Map<String, Integer> m, String key) {
        synchronized (m) {
            m.merge(key, 1, Integer::sum);
        }
    }

    /** Runs the workload and the storm, prints the summary, and ends the JVM. */
    public void run() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        CountDownLatch warmedUp = new CountDownLatch(warmup);
        CountDownLatch done = new CountDownLatch(workers);
        List<Future<?>> futures = new ArrayList<>();
        step("placing orders: " + workers + " workers; storm " + storm);
        for (int w = 0; w < workers; w++) {
            Hold hold = new Hold(w, this);
            futures.add(pool.submit(() -> {
                try {
                    while (warmedUp.getCount() > 0) {
                        order(null);
                        warmedUp.countDown();
                    }
                    order(hold); // stops inside its transaction until the storm is over
                    for (int i = 0; i < after && !closed; i++) {
                        order(null);
                    }
                } finally {
                    done.countDown();
                }
                return null;
            }));
        }
        if (!inTransaction.await(60, TimeUnit.SECONDS)) {
            step("not every worker got inside its transaction (the database may be gone)");
        }
        step("storm: " + storm);
        switch (storm) {
            case "shutdownNow":
                pool.shutdownNow();
                break;
            case "cancel":
                futures.forEach(f -> f.cancel(true));
                break;
            case "poolclose":
                close();
                break;
            case "kill":
                if (!service.canKill()) {
                    throw new IllegalArgumentException("storm kill does not apply to this app: its database is embedded");
                }
                for (int w = 0; w < workers; w++) {
                    kill(backends.get(w));
                }
                break;
            case "random":
                int killed = random.nextInt(workers);
                for (int w = 0; w < workers; w++) {
                    int pick = w == killed ? 0 : random.nextInt(3);
                    if (pick == 0 && !service.canKill()) {
                        pick = 1; // nothing to kill in an embedded database: cancel instead
                    }
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
                    close();
                    gate.countDown();
                    awaitQuietly(done);
                    summary("System.exit(0) during the storm; the shutdown hook closed the service");
                }, "service-shutdown"));
                System.exit(0);
                return;
            default:
                throw new IllegalStateException(storm);
        }
        gate.countDown();
        awaitQuietly(done);
        pool.shutdown();
        summary("0");
        close();
        System.exit(0);
    }

    private void order(Hold hold) {
        long id = ids.incrementAndGet();
        attempted.incrementAndGet();
        try {
            service.placeOrder(id, hold);
            acked.add(id);
            acks.println(id);
        } catch (Exception e) {
            String m = String.valueOf(e.getMessage());
            count(callers, e.getClass().getSimpleName() + ": " + (m.length() > 70 ? m.substring(0, 70) : m));
        }
    }

    private void kill(Long backend) {
        if (backend == null) {
            return;
        }
        try (Connection admin = service.direct(); Statement s = admin.createStatement()) {
            s.execute(service.killSql(backend));
        } catch (SQLException e) {
            step("  ending backend " + backend + " failed: " + e.getMessage());
        }
    }

    private synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            service.closeResources(new ArrayList<>(backends.values()));
        } catch (RuntimeException e) {
            step("closing the service failed: " + e);
        }
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

    private void summary(String exit) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("attempted", String.valueOf(attempted.get()));
        s.put("acknowledged", String.valueOf(acked.size()));
        Set<Long> found = new TreeSet<>();
        String usable = "yes";
        try (Connection c = service.direct(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select id from " + service.table())) {
            while (rs.next()) {
                found.add(rs.getLong(1));
            }
        } catch (SQLException e) {
            usable = "no (" + e.getMessage() + ")";
        }
        s.put("rowsFound", String.valueOf(found.size()));
        s.put("ackedMissing", String.valueOf(acked.stream().filter(id -> !found.contains(id)).count()));
        synchronized (escaped) {
            s.put("escapedCleanup", String.valueOf(escaped.values().stream().mapToInt(Integer::intValue).sum()));
            s.put("escapedByClass", escaped.isEmpty() ? "none" : escaped.toString());
        }
        synchronized (callers) {
            s.put("callersSaw", callers.isEmpty() ? "none" : callers.toString());
        }
        s.put("checkedOut", service.checkedOut());
        String own = service.usable();
        s.put("usable", own != null ? own : usable);
        s.put("exit", exit);
        StringBuilder b = new StringBuilder();
        s.forEach((k, v) -> b.append("RESULT ").append(k).append('=').append(v).append('\n'));
        System.out.print(b);
        System.out.flush();
        try (PrintWriter w = new PrintWriter(new FileWriter(new File(dir, "summary.txt")))) {
            s.forEach((k, v) -> w.println(k + "=" + v));
        } catch (IOException e) {
            e.printStackTrace();
        }
        acks.close();
        try (Connection c = service.direct(); Statement st = c.createStatement()) {
            st.execute("drop table if exists " + service.table());
        } catch (SQLException e) {
            // reported above when the database is not usable
        }
    }

    /** A progress line. */
    public static void step(String what) {
        System.out.println("  .. " + what);
        System.out.flush();
    }

    /** Reads the current backend id of a connection (for {@link Hold#inside}). */
    public static long backendId(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
