package dev.sessionguard.demo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * A legacy order service: Hibernate 5.6, HikariCP, embedded H2 1.4.200 with durable commits. Two kinds of
 * worker: "exporters" that hold a transaction open while they wait for a remote answer, and "checkout"
 * workers that place orders in a tight loop. Then the storm every operations team knows:
 * <ol>
 *   <li>the exporter pool is stopped with {@code shutdownNow()} while its workers are inside transactions
 *       (their interrupts land in the wait, their cleanup runs with the flag set);</li>
 *   <li>checkout goes on for a while: does the database still work?</li>
 *   <li>the JVM is told to exit while checkout workers are inside transactions; the shutdown hook closes
 *       the SessionFactory and lets the workers finish.</li>
 * </ol>
 * Every order the service was told is committed goes to an acknowledgement log; the summary says what
 * happened. {@link Verify} then reads the database file in a JVM of its own.
 */
public final class LegacyOrderService {

    private static final Logger QUIET_HIBERNATE = Logger.getLogger("org.hibernate");
    private static final Logger QUIET_HIKARI = Logger.getLogger("com.zaxxer.hikari");

    private final File dir;
    private final String url;
    private final HikariDataSource pool;
    private final SessionFactory sf;
    private final PrintWriter acks;
    private final AtomicInteger attempted = new AtomicInteger();
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicInteger failedAfterStorm = new AtomicInteger();
    private final AtomicInteger attemptedAfterStorm = new AtomicInteger();
    private final AtomicInteger nextId = new AtomicInteger();
    private final Map<String, Integer> escapedCleanup = new TreeMap<>();
    private volatile boolean stormed;

    private LegacyOrderService(File dir) throws Exception {
        this.dir = dir;
        // durable commits (WRITE_DELAY=0); the service closes the database itself (DB_CLOSE_ON_EXIT=FALSE)
        this.url = "jdbc:h2:file:" + new File(dir, "orders").getAbsolutePath() + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
        try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement s = c.createStatement()) {
            s.execute("create table if not exists orders (id bigint primary key, item varchar(100) not null)");
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername("sa");
        hc.setMaximumPoolSize(10);
        hc.setPoolName("orders");
        pool = new HikariDataSource(hc);
        Configuration cfg = new Configuration();
        cfg.getProperties().put("hibernate.connection.datasource", pool);
        sf = cfg.buildSessionFactory();
        acks = new PrintWriter(new FileWriter(new File(dir, "acknowledged.log")), true);
    }

    public static void main(String[] args) throws Exception {
        QUIET_HIBERNATE.setLevel(Level.SEVERE);
        QUIET_HIKARI.setLevel(Level.SEVERE);
        File dir = new File(args.length > 0 ? args[0] : "target/legacy-h2");
        dir.mkdirs();
        new LegacyOrderService(dir).run();
    }

    // ------------------------------------------------------------------ the service's own code, as found

    /** One order, written the way legacy code writes it: rollback in catch, close in finally. */
    private void placeOrder(long id, CountDownLatch inTransaction, CountDownLatch remoteAnswer) throws Exception {
        attempted.incrementAndGet();
        Session session = sf.openSession();
        Transaction tx = null;
        try {
            tx = session.beginTransaction();
            session.createNativeQuery("insert into orders (id, item) values (" + id + ", 'order " + id + "')").executeUpdate();
            if (inTransaction != null) {
                inTransaction.countDown();
                remoteAnswer.await(); // waits for a remote system, inside the transaction
            }
            tx.commit();
            acks.println(id);
            acknowledged.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (tx != null) {
                cleanup("rollback", tx::rollback);
            }
            throw e;
        } catch (RuntimeException e) {
            if (tx != null) {
                cleanup("rollback", tx::rollback);
            }
            throw e;
        } finally {
            cleanup("close", session::close);
        }
    }

    /** Runs a cleanup step; what escapes it is counted (and still thrown, as the legacy code does). */
    private void cleanup(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            synchronized (escapedCleanup) {
                escapedCleanup.merge(what + ": " + e.getClass().getSimpleName(), 1, Integer::sum);
            }
            throw e;
        }
    }

    // ------------------------------------------------------------------ the storm

    private void run() throws Exception {
        int exporters = 4;
        int checkouts = 2;
        step("placing orders: " + exporters + " exporters waiting inside transactions, " + checkouts + " checkout workers");
        ExecutorService exporterPool = Executors.newFixedThreadPool(exporters);
        CountDownLatch exportersInTx = new CountDownLatch(exporters);
        CountDownLatch never = new CountDownLatch(1);
        for (int i = 0; i < exporters; i++) {
            exporterPool.submit(() -> {
                placeOrder(nextId.incrementAndGet(), exportersInTx, never);
                return null;
            });
        }
        ExecutorService checkoutPool = Executors.newFixedThreadPool(checkouts);
        CountDownLatch beforeStorm = new CountDownLatch(40);
        CountDownLatch afterStorm = new CountDownLatch(40);
        CountDownLatch checkoutInTx = new CountDownLatch(checkouts);
        CountDownLatch exitGate = new CountDownLatch(1);
        CountDownLatch checkoutDone = new CountDownLatch(checkouts);
        CountDownLatch checkoutPaused = new CountDownLatch(checkouts);
        CountDownLatch checkoutResume = new CountDownLatch(1);
        for (int i = 0; i < checkouts; i++) {
            checkoutPool.submit(() -> {
                try {
                    ordersUntil(beforeStorm);
                    // a quiet moment, so that the storm hits the same way on every run
                    checkoutPaused.countDown();
                    checkoutResume.await();
                    ordersUntil(afterStorm);
                    // last order: inside its transaction when the JVM is told to exit
                    placeOrder(nextId.incrementAndGet(), checkoutInTx, exitGate);
                } catch (Exception e) {
                    // reported in the summary through the counters
                } finally {
                    checkoutDone.countDown();
                }
                return null;
            });
        }
        if (!exportersInTx.await(60, TimeUnit.SECONDS) || !checkoutPaused.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the workers never got where the storm hits (is " + dir + " a fresh directory?)");
        }
        step("storm 1: exporterPool.shutdownNow() interrupts 4 workers inside their transactions");
        stormed = true;
        exporterPool.shutdownNow();
        exporterPool.awaitTermination(30, TimeUnit.SECONDS);
        step("checkout goes on: 40 more orders");
        checkoutResume.countDown();
        afterStorm.await();
        // bounded: without a database (storm 1 can kill it) no worker gets inside a transaction
        checkoutInTx.await(10, TimeUnit.SECONDS);
        step("storm 2: System.exit while checkout workers are inside transactions; the shutdown hook closes the SessionFactory");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sf.close();
            exitGate.countDown();
            try {
                checkoutDone.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            writeSummary();
        }, "orders-shutdown"));
        System.exit(0);
    }

    /** Places orders until the latch has counted down; failures after storm 1 are counted. */
    private void ordersUntil(CountDownLatch orders) {
        while (orders.getCount() > 0) {
            if (stormed) {
                attemptedAfterStorm.incrementAndGet();
            }
            try {
                placeOrder(nextId.incrementAndGet(), null, null);
            } catch (Exception e) {
                if (stormed) {
                    failedAfterStorm.incrementAndGet();
                }
            }
            orders.countDown();
        }
    }

    private void writeSummary() {
        Map<String, String> s = new java.util.LinkedHashMap<>();
        s.put("transactions attempted", String.valueOf(attempted.get()));
        s.put("acknowledged commits", String.valueOf(acknowledged.get()));
        s.put("orders failed after storm 1", failedAfterStorm.get() + " of " + attemptedAfterStorm.get());
        int escaped = escapedCleanup.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder kinds = new StringBuilder();
        escapedCleanup.forEach((k, n) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(n).append(' ').append(k));
        s.put("exceptions escaping cleanup", escaped == 0 ? "0" : escaped + " (" + kinds + ")");
        String usable;
        // through the service's own pool: what the application sees, not a fresh reopen of the file
        try (Connection c = pool.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select count(*) from orders")) {
            rs.next();
            usable = "yes";
        } catch (Exception e) {
            usable = "no (" + e.getMessage().replaceAll(" \\[.*", "") + ")";
        }
        s.put("database usable at exit", usable);
        s.put("connections left checked out", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
        try (PrintWriter w = new PrintWriter(new FileWriter(new File(dir, "summary.txt")))) {
            s.forEach((k, v) -> w.println(k + "=" + v));
        } catch (IOException e) {
            e.printStackTrace();
        }
        acks.close();
        try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
            st.execute("shutdown");
        } catch (Exception e) {
            // the database may be closed already: that is what the summary reports
        }
    }

    private static void step(String what) {
        System.out.println("  .. " + what);
        System.out.flush();
    }
}
