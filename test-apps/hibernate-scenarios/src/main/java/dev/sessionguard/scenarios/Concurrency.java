package dev.sessionguard.scenarios;

import com.zaxxer.hikari.HikariDataSource;
import java.lang.ref.WeakReference;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;

/**
 * The 10 concurrency edge cases at the session level: {@code Concurrency <test> <repetitions> <seed> <db>}.
 * Each repetition builds what it needs (pool, factory), runs the test, and checks what a user cares about:
 * <ul>
 *   <li>no exception escaped a cleanup (rollback/close in catch/finally, the service's own cleanup code);</li>
 *   <li>every order the service was told is committed is in the database;</li>
 *   <li>no connection is left checked out and the database still answers.</li>
 * </ul>
 * plus what the test itself is about. Prints {@code RESULT passed=N of M}, the first failure, and per test
 * what it saw (the numbers the closing note reports). Thread interleavings are fixed with latches and
 * barriers; where a test leaves the interleaving to the scheduler (the herd, the race), every outcome the
 * scheduler can produce must hold the invariants, and the seed picks the workers' small head starts.
 */
public final class Concurrency {

    private final Db db;
    private final Set<Long> acked = ConcurrentHashMap.newKeySet();
    private final List<String> escaped = Collections.synchronizedList(new ArrayList<>());
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    /** What the test saw, printed as RESULT lines (last repetition wins). */
    private final Map<String, String> seen = new TreeMap<>();
    private final AtomicLong ids = new AtomicLong();
    private long totalMissing;
    private final List<HikariDataSource> pools = new ArrayList<>();

    private Concurrency(Db db) {
        this.db = db;
    }

    public static void main(String[] args) throws Exception {
        String test = args[0];
        int reps = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        System.out.println("seed " + seed);
        Db db = new Db(args.length > 3 ? args[3] : "postgres");
        db.createTable();
        Concurrency c = new Concurrency(db);
        Map<String, String> result = new LinkedHashMap<>();
        int passed = 0;
        String firstFailure = "none";
        for (int rep = 0; rep < reps; rep++) {
            String failure;
            try {
                c.run(test, new Random(seed + rep));
                failure = c.check();
            } catch (Throwable t) {
                failure = "crashed: " + Scenarios.describe(t);
                t.printStackTrace();
            } finally {
                c.closePools();
            }
            if (failure == null) {
                passed++;
            } else if (firstFailure.equals("none")) {
                firstFailure = "rep " + rep + ": " + failure;
            }
        }
        result.put("test", test);
        result.put("seed", String.valueOf(seed));
        result.put("passed", passed + " of " + reps);
        result.put("firstFailure", firstFailure);
        result.put("acknowledged", String.valueOf(c.acked.size()));
        result.putAll(c.seen);
        result.put("agentState", String.valueOf(Scenarios.agentStateSize()));
        result.put("agentBusy", String.valueOf(agentBusySessions()));
        Scenarios.print(result);
        db.dropTable();
        System.exit(0);
    }

    private void run(String test, Random random) throws Exception {
        switch (test) {
            case "herd": thunderingHerd(random); break;
            case "leak": leakUnderExceptions(); break;
            case "race": stateRace(random); break;
            case "interleaved": interleavedReadWrite(random); break;
            case "timeouts": timeoutsDuringCleanup(); break;
            case "nested": nestedTransactions(); break;
            case "exhaustion": poolExhaustion(); break;
            case "cascade": cascadingFailures(); break;
            case "growth": noGrowth(); break;
            case "order": cleanupOrder(); break;
            default: throw new IllegalArgumentException("unknown test " + test);
        }
    }

    // ------------------------------------------------------------------ the checks

    /** Null when every invariant holds, else what broke. Resets the per-repetition records. */
    private String check() {
        List<String> found = new ArrayList<>(problems);
        if (!escaped.isEmpty()) {
            found.add(escaped.size() + " exceptions escaped cleanup, first " + escaped.get(0));
        }
        for (HikariDataSource pool : pools) {
            if (!pool.isClosed()) {
                int active = pool.getHikariPoolMXBean().getActiveConnections();
                if (active != 0) {
                    found.add(active + " connections left checked out");
                }
                String usable = Db.usable(pool);
                if (!usable.equals("yes")) {
                    found.add("database unusable: " + usable);
                }
            }
        }
        Set<Long> inDb = idsInDatabase();
        long missing = acked.stream().filter(id -> !inDb.contains(id)).count();
        if (missing > 0) {
            found.add(missing + " acknowledged orders missing");
        }
        seen.put("escaped", String.valueOf(escaped.size()) + (escaped.isEmpty() ? "" : " (" + new TreeSet<>(escaped).iterator().next() + ")"));
        seen.put("ackedMissing", String.valueOf(missing));
        totalMissing += missing;
        seen.put("ackedMissingAllReps", String.valueOf(totalMissing));
        escaped.clear();
        problems.clear();
        return found.isEmpty() ? null : String.join("; ", found);
    }

    private Set<Long> idsInDatabase() {
        Set<Long> found = new TreeSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id from " + db.table)) {
            while (rs.next()) {
                found.add(rs.getLong(1));
            }
        } catch (Exception e) {
            found.add(-1L);
        }
        return found;
    }

    private HikariDataSource pool(int size) {
        HikariDataSource pool = db.pool(size);
        pools.add(pool);
        return pool;
    }

    /** Closes this repetition's pools after the checks have read them. */
    private void closePools() {
        for (HikariDataSource pool : pools) {
            pool.close();
        }
        pools.clear();
    }

    private void cleanup(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            escaped.add(Scenarios.describe(e));
            synchronized (escaped) {
                if (escaped.size() == 1) {
                    // the first one whole, with its causes: what the summary line cannot say
                    System.err.println("first exception that escaped a cleanup, in " + Thread.currentThread().getName() + ":");
                    e.printStackTrace();
                }
            }
            throw e;
        }
    }

    static int agentBusySessions() {
        try {
            return (Integer) Class.forName("dev.sessionguard.bootstrap.Guard").getMethod("busySessions").invoke(null);
        } catch (Throwable e) {
            return -1;
        }
    }

    /**
     * One order as legacy code writes it: rollback in catch, close in finally; the order is acknowledged
     * when commit() returns. Returns what the caller saw ("none" when committed).
     */
    private String order(SessionFactory sf, long id, Runnable beforeCommit) {
        try {
            Session s = sf.openSession();
            Transaction tx = null;
            try {
                tx = s.beginTransaction();
                db.insert(s, id);
                if (beforeCommit != null) {
                    beforeCommit.run();
                }
                tx.commit();
                acked.add(id);
                return "none";
            } catch (RuntimeException e) {
                if (tx != null) {
                    Transaction t = tx;
                    cleanup(t::rollback);
                }
                throw e;
            } finally {
                cleanup(s::close);
            }
        } catch (RuntimeException e) {
            return Scenarios.describe(e);
        }
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a worker never got where the test waits for it");
        }
    }

    private static String summary(Map<String, Integer> counts) {
        if (counts.isEmpty()) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        new TreeMap<>(counts).forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(v).append("x ").append(k));
        return b.toString();
    }

    // ------------------------------------------------------------------ 1 thundering herd

    /**
     * 100 threads open a session, write and commit at once (a barrier lets them go together) while the
     * factory is closed mid-way: when the 50th order is acknowledged, as a shutdown hook would.
     */
    private void thunderingHerd(Random random) throws Exception {
        int threads = 100;
        HikariDataSource pool = pool(20);
        SessionFactory sf = db.sessionFactory(pool, false);
        CyclicBarrier start = new CyclicBarrier(threads);
        CountDownLatch half = new CountDownLatch(threads / 2);
        Map<String, Integer> callers = new ConcurrentHashMap<>();
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        List<Future<?>> fs = new ArrayList<>();
        int before = acked.size();
        for (int i = 0; i < threads; i++) {
            long id = ids.incrementAndGet();
            int spins = random.nextInt(2000);
            fs.add(ex.submit(() -> {
                start.await();
                for (int k = 0; k < spins; k++) {
                    Thread.onSpinWait();
                }
                String saw = order(sf, id, null);
                if (saw.equals("none")) {
                    half.countDown();
                } else {
                    callers.merge(saw.length() > 90 ? saw.substring(0, 90) : saw, 1, Integer::sum);
                }
                return null;
            }));
        }
        if (!half.await(60, TimeUnit.SECONDS)) {
            problems.add("fewer than half of the orders committed before the factory closed");
        }
        sf.close();
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        ex.shutdown();
        seen.put("committed", (acked.size() - before) + " of " + threads);
        seen.put("callersSaw", summary(callers));
    }

    // ------------------------------------------------------------------ 2 leak detection

    /** Every way an order can fail, one after the other; after each the pool's active count must be 0. */
    private void leakUnderExceptions() throws Exception {
        HikariDataSource pool = pool(3);
        SessionFactory sf = db.sessionFactory(pool, false);
        Map<String, String> paths = new LinkedHashMap<>();
        long dup = ids.incrementAndGet();
        paths.put("ok", work(sf, s -> db.insert(s, dup)));
        acked.add(dup);
        paths.put("constraint", work(sf, s -> db.insert(s, dup)));
        paths.put("application", work(sf, s -> {
            throw new IllegalArgumentException("credit limit exceeded");
        }));
        paths.put("interrupted", work(sf, s -> Thread.currentThread().interrupt()));
        Thread.interrupted();
        paths.put("deadConnection", work(sf, s -> kill(s, pool)));
        List<String> leaks = new ArrayList<>();
        int active = pool.getHikariPoolMXBean().getActiveConnections();
        if (active != 0) {
            leaks.add(active + " after the ordinary failures");
        }
        // the factory closed while an order is inside its transaction (shutdown hook, context close)
        SessionFactory closing = db.sessionFactory(pool, false);
        Session s = closing.openSession();
        try {
            Transaction tx = s.beginTransaction();
            try {
                db.insert(s, ids.incrementAndGet());
                closing.close();
                db.insert(s, ids.incrementAndGet());
                tx.commit();
            } catch (RuntimeException e) {
                paths.put("factoryClosed", Scenarios.describe(e));
                cleanup(tx::rollback);
            } finally {
                cleanup(s::close);
            }
        } catch (RuntimeException e) {
            // recorded as escaped
        }
        active = pool.getHikariPoolMXBean().getActiveConnections();
        if (active != 0) {
            leaks.add(active + " after factoryClosed");
        }
        // try-with-resources only, no rollback, factory closed under it
        SessionFactory closing2 = db.sessionFactory(pool, false);
        try (Hib.Open open = Hib.open(closing2)) {
            Session s2 = open.session;
            s2.beginTransaction();
            db.insert(s2, ids.incrementAndGet());
            closing2.close();
        } catch (RuntimeException e) {
            escaped.add(Scenarios.describe(e));
        }
        active = pool.getHikariPoolMXBean().getActiveConnections();
        if (active != 0) {
            leaks.add(active + " after tryWithResources+factoryClosed");
        }
        sf.close();
        seen.put("paths", paths.toString());
        seen.put("leaks", leaks.isEmpty() ? "none" : String.join(", ", leaks));
        if (!leaks.isEmpty()) {
            problems.add("connections left checked out: " + leaks);
        }
    }

    // ------------------------------------------------------------------ 3 race in state checks

    /**
     * One session, three threads: commit, rollback and close released together by a barrier, 1,000 rounds.
     * Whoever wins, the rollback and the close must not throw, and an acknowledged commit must be in the
     * database.
     */
    private void stateRace(Random random) throws Exception {
        int rounds = Integer.getInteger("sg.race.rounds", 1000);
        HikariDataSource pool = pool(4);
        SessionFactory sf = db.sessionFactory(pool, false);
        ExecutorService ex = Executors.newFixedThreadPool(3);
        CyclicBarrier go = new CyclicBarrier(3);
        Map<String, Integer> commits = new ConcurrentHashMap<>();
        Map<String, Integer> cleanups = new ConcurrentHashMap<>();
        int committed = 0;
        for (int r = 0; r < rounds; r++) {
            long id = ids.incrementAndGet();
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            db.insert(s, id);
            int[] spins = {random.nextInt(500), random.nextInt(500), random.nextInt(500)};
            Future<?> a = ex.submit(() -> {
                go.await();
                spin(spins[0]);
                try {
                    tx.commit();
                    acked.add(id);
                    commits.merge("committed", 1, Integer::sum);
                } catch (RuntimeException e) {
                    commits.merge(Scenarios.describe(e), 1, Integer::sum);
                }
                return null;
            });
            Future<?> b = ex.submit(() -> {
                go.await();
                spin(spins[1]);
                try {
                    tx.rollback();
                } catch (RuntimeException e) {
                    cleanups.merge("rollback: " + Scenarios.describe(e), 1, Integer::sum);
                    escaped.add("rollback: " + Scenarios.describe(e));
                }
                return null;
            });
            Future<?> c = ex.submit(() -> {
                go.await();
                spin(spins[2]);
                try {
                    s.close();
                } catch (RuntimeException e) {
                    cleanups.merge("close: " + Scenarios.describe(e), 1, Integer::sum);
                    escaped.add("close: " + Scenarios.describe(e));
                }
                return null;
            });
            a.get(60, TimeUnit.SECONDS);
            b.get(60, TimeUnit.SECONDS);
            c.get(60, TimeUnit.SECONDS);
            if (s.isOpen()) {
                s.close();
            }
        }
        ex.shutdown();
        sf.close();
        seen.put("commits", summary(commits));
        seen.put("cleanupsThrew", summary(cleanups));
    }

    private static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    // ------------------------------------------------------------------ 4 interleaved read/write

    /**
     * Writers and readers on their own sessions, their transactions interleaved step by step by a phaser:
     * a reader opens its transaction before a writer commits and reads after. Results must be those of
     * read-committed isolation, the same with and without the agent, and the agent logs nothing.
     */
    private void interleavedReadWrite(Random random) throws Exception {
        HikariDataSource pool = pool(8);
        SessionFactory sf = db.sessionFactory(pool, false);
        int pairs = 4;
        int rounds = 50;
        java.util.concurrent.Phaser phaser = new java.util.concurrent.Phaser(pairs * 2);
        ExecutorService ex = Executors.newFixedThreadPool(pairs * 2);
        AtomicInteger wrongReads = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        long base = ids.addAndGet(pairs * rounds + 1) - pairs * rounds;
        for (int p = 0; p < pairs; p++) {
            int pair = p;
            fs.add(ex.submit(() -> { // writer
                for (int r = 0; r < rounds; r++) {
                    long id = base + pair * rounds + r;
                    Session s = sf.openSession();
                    Transaction tx = s.beginTransaction();
                    try {
                        db.insert(s, id);
                        phaser.arriveAndAwaitAdvance(); // 1: written, not committed
                        phaser.arriveAndAwaitAdvance(); // 2: the reader has read
                        tx.commit();
                        acked.add(id);
                        phaser.arriveAndAwaitAdvance(); // 3: committed
                    } finally {
                        if (Hib.active(tx)) {
                            cleanup(tx::rollback);
                        }
                        cleanup(s::close);
                    }
                }
                return null;
            }));
            fs.add(ex.submit(() -> { // reader
                for (int r = 0; r < rounds; r++) {
                    long id = base + pair * rounds + r;
                    Session s = sf.openSession();
                    Transaction tx = s.beginTransaction();
                    try {
                        phaser.arriveAndAwaitAdvance(); // 1
                        long before = count(s, id);
                        phaser.arriveAndAwaitAdvance(); // 2
                        phaser.arriveAndAwaitAdvance(); // 3
                        long after = count(s, id);
                        reads.addAndGet(2);
                        if (before != 0 || after != 1) {
                            wrongReads.incrementAndGet();
                        }
                        tx.commit();
                    } finally {
                        if (Hib.active(tx)) {
                            cleanup(tx::rollback);
                        }
                        cleanup(s::close);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(120, TimeUnit.SECONDS);
        }
        ex.shutdown();
        sf.close();
        seen.put("reads", reads.get() + " reads, " + wrongReads.get() + " not read-committed");
        if (wrongReads.get() != 0) {
            problems.add(wrongReads.get() + " reads saw uncommitted or missed committed rows");
        }
    }

    private long count(Session s, long id) {
        return ((Number) Hib.single(s, "select count(*) from " + db.table + " where id = " + id)).longValue();
    }

    // ------------------------------------------------------------------ 5 timeouts during cleanup

    /**
     * A lock timeout and a statement timeout inside the transaction (PostgreSQL ends the statement, the
     * transaction is aborted, the rollback in cleanup works), and a driver socket timeout (socketTimeout=1:
     * the driver closes the connection, the rollback in cleanup fails). The caller must see the timeout.
     */
    private void timeoutsDuringCleanup() throws Exception {
        if (!db.kind.equals("postgres")) {
            throw new IllegalStateException("timeouts runs on PostgreSQL");
        }
        HikariDataSource pool = pool(3);
        SessionFactory sf = db.sessionFactory(pool, false);
        HikariDataSource shortSocket = db.pool(2, "socketTimeout=1");
        pools.add(shortSocket);
        SessionFactory sfShort = db.sessionFactory(shortSocket, false);
        long locked = ids.incrementAndGet();
        try (Connection c = db.direct(); Statement st = c.createStatement()) {
            st.execute("insert into " + db.table + " (id, item) values (" + locked + ", 'stock')");
        }
        Map<String, String> callers = new LinkedHashMap<>();
        try (Connection holder = db.direct(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.executeUpdate("update " + db.table + " set item = 'held' where id = " + locked);
            callers.put("lockTimeout", work(sf, s -> {
                Hib.update(s, "set local lock_timeout = '200ms'");
                Hib.update(s, "update " + db.table + " set item = 'mine' where id = " + locked);
            }));
            holder.rollback();
        }
        callers.put("statementTimeout", work(sf, s -> {
            Hib.update(s, "set local statement_timeout = '200ms'");
            Hib.single(s, "select 1 from pg_sleep(5)");
        }));
        callers.put("socketTimeout", work(sfShort, s -> Hib.single(s, "select 1 from pg_sleep(3)")));
        sf.close();
        sfShort.close();
        seen.put("callers", callers.toString());
        for (Map.Entry<String, String> e : callers.entrySet()) {
            if (!e.getValue().toLowerCase().contains("timeout") && !e.getValue().contains("canceling statement")
                    && !e.getValue().contains("I/O error")) {
                problems.add(e.getKey() + ": the caller saw " + e.getValue() + ", not the timeout");
            }
        }
    }

    interface SessionWork {
        void run(Session s);
    }

    /** Runs {@code work} in an order's transaction with the legacy cleanup; returns what the caller saw. */
    private String work(SessionFactory sf, SessionWork work) {
        try {
            Session s = sf.openSession();
            Transaction tx = null;
            try {
                tx = s.beginTransaction();
                db.insert(s, ids.incrementAndGet());
                work.run(s);
                tx.commit();
                return "none";
            } catch (RuntimeException e) {
                if (tx != null) {
                    Transaction t = tx;
                    cleanup(t::rollback);
                }
                throw e;
            } finally {
                cleanup(s::close);
            }
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            return Scenarios.describe(e) + " <- " + Scenarios.describe(root);
        }
    }

    // ------------------------------------------------------------------ 6 nested transactions

    /**
     * Savepoints inside a transaction, a second session opened and committed inside the first one's
     * transaction, and that inner session written the legacy way (rollback in finally after its commit,
     * JPA compliance on, as JPA-bootstrapped services have it).
     */
    private void nestedTransactions() throws Exception {
        HikariDataSource pool = pool(4);
        SessionFactory sf = db.sessionFactory(pool, true);
        long outer1 = ids.incrementAndGet();
        long undone = ids.incrementAndGet();
        long outer2 = ids.incrementAndGet();
        long inner = ids.incrementAndGet();
        String caller = "none";
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        try {
            db.insert(s, outer1);
            s.doWork(c -> {
                java.sql.Savepoint sp = c.setSavepoint("sg_sp");
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("insert into " + db.table + " (id, item) values (" + undone + ", 'undone')");
                }
                c.rollback(sp);
            });
            db.insert(s, outer2);
            Session in = sf.openSession();
            Transaction itx = in.beginTransaction();
            try {
                db.insert(in, inner);
                itx.commit();
                acked.add(inner);
            } finally {
                itx.rollback(); // legacy: "make sure" in finally, after the commit
                in.close();
            }
            tx.commit();
            acked.add(outer1);
            acked.add(outer2);
        } catch (RuntimeException e) {
            caller = Scenarios.describe(e);
            cleanup(tx::rollback);
        } finally {
            cleanup(s::close);
        }
        sf.close();
        Set<Long> inDb = idsInDatabase();
        seen.put("caller", caller);
        seen.put("rows", (inDb.contains(outer1) ? "outer1 " : "") + (inDb.contains(undone) ? "undone(savepoint!) " : "")
                + (inDb.contains(outer2) ? "outer2 " : "") + (inDb.contains(inner) ? "inner" : ""));
        if (inDb.contains(undone)) {
            problems.add("the row rolled back to its savepoint is in the database");
        }
        if (!caller.equals("none")) {
            problems.add("the outer transaction failed: " + caller);
        }
    }

    // ------------------------------------------------------------------ 7 pool exhaustion

    /**
     * A pool of 5 and 50 workers, 45 of them waiting for a connection; once 10 orders are acknowledged the
     * service shuts down: shutdownNow() interrupts every worker and a shutdown step closes the factory.
     */
    private void poolExhaustion() throws Exception {
        HikariDataSource pool = pool(5);
        SessionFactory sf = db.sessionFactory(pool, false);
        ExecutorService ex = Executors.newFixedThreadPool(50);
        CountDownLatch ten = new CountDownLatch(10);
        CountDownLatch shutdown = new CountDownLatch(1);
        Map<String, Integer> callers = new ConcurrentHashMap<>();
        AtomicInteger lostInterrupts = new AtomicInteger();
        AtomicInteger interrupted = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        int before = acked.size();
        for (int i = 0; i < 50; i++) {
            long id = ids.incrementAndGet();
            fs.add(ex.submit(() -> {
                String saw = order(sf, id, () -> {
                    if (ten.getCount() == 0) {
                        // past the tenth order: this one is inside its transaction when the service stops
                        Cancellations.awaitUninterruptibly(shutdown);
                    }
                });
                if (saw.equals("none")) {
                    ten.countDown();
                } else {
                    callers.merge(saw.length() > 90 ? saw.substring(0, 90) : saw, 1, Integer::sum);
                }
                if (shutdown.getCount() == 0) {
                    interrupted.incrementAndGet();
                    if (!Thread.currentThread().isInterrupted()) {
                        lostInterrupts.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        await(ten);
        ex.shutdownNow();
        shutdown.countDown();
        sf.close();
        if (!ex.awaitTermination(60, TimeUnit.SECONDS)) {
            problems.add("workers did not finish");
        }
        seen.put("committed", (acked.size() - before) + " of 50");
        seen.put("callersSaw", summary(callers));
        seen.put("lostInterrupts", lostInterrupts.get() + " of " + interrupted.get() + " interrupted workers");
        if (lostInterrupts.get() != 0) {
            problems.add(lostInterrupts.get() + " interrupts lost");
        }
    }

    // ------------------------------------------------------------------ 8 cascading failures

    /**
     * Six workers, five orders each, on a pool of three. The first order of workers 1 to 3 loses its
     * backend (pg_terminate_backend) inside its transaction, and its next statement fails. Their cleanup is
     * {@code finally { rollback; close; }}: when the rollback throws, close() never runs and the connection
     * is never returned to the pool.
     * The other orders must not suffer for it.
     */
    private void cascadingFailures() throws Exception {
        if (!db.kind.equals("postgres")) {
            throw new IllegalStateException("cascade runs on PostgreSQL");
        }
        HikariDataSource pool = pool(3);
        // without the agent the victims' connections leak and the healthy workers must time out fast to finish at all;
        // with it none leaks, and a stalled machine must not turn a wait for a connection into a failed order
        pool.setConnectionTimeout(Scenarios.agentStateSize() >= 0 ? 30000 : 3000);
        SessionFactory sf = db.sessionFactory(pool, false);
        ExecutorService ex = Executors.newFixedThreadPool(6);
        Map<String, Integer> callers = new ConcurrentHashMap<>();
        List<Future<?>> fs = new ArrayList<>();
        int before = acked.size();
        CountDownLatch killed = new CountDownLatch(3);
        for (int w = 1; w <= 6; w++) {
            int worker = w;
            fs.add(ex.submit(() -> {
                if (worker > 3) {
                    await(killed); // the others start once the three backends are gone
                }
                for (int o = 0; o < 5; o++) {
                    long id = ids.incrementAndGet();
                    boolean victim = worker <= 3 && o == 0;
                    String saw;
                    try {
                        Session s = sf.openSession();
                        Transaction tx = s.beginTransaction();
                        try {
                            db.insert(s, id);
                            if (victim) {
                                terminateOwnBackend(s);
                                killed.countDown();
                                db.insert(s, id + 1_000_000); // fails: the backend is gone
                            }
                            tx.commit();
                            acked.add(id);
                            saw = "none";
                        } finally {
                            try {
                                if (Hib.canRollback(tx)) {
                                    tx.rollback();
                                }
                                s.close();
                            } catch (RuntimeException e) {
                                escaped.add(Scenarios.describe(e));
                                throw e;
                            }
                        }
                    } catch (RuntimeException e) {
                        saw = Scenarios.describe(e);
                    }
                    if (!saw.equals("none")) {
                        callers.merge((victim ? "victim: " : "other: ") + (saw.length() > 90 ? saw.substring(0, 90) : saw), 1, Integer::sum);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(120, TimeUnit.SECONDS);
        }
        ex.shutdown();
        sf.close();
        int committed = acked.size() - before;
        seen.put("committed", committed + " of 27 that did not lose their backend");
        seen.put("callersSaw", summary(callers));
        if (committed != 27) {
            problems.add((27 - committed) + " orders of healthy workers failed");
        }
    }

    /** The session's connection dies under it: its backend is terminated (PostgreSQL) or closed (H2). */
    private void kill(Session s, HikariDataSource pool) {
        if (db.kind.equals("postgres")) {
            terminateOwnBackend(s);
        } else {
            db.killConnection(s, pool);
        }
    }

    private void terminateOwnBackend(Session s) {
        long pid = ((Number) Hib.single(s, "select pg_backend_pid()")).longValue();
        try (Connection c = db.direct(); Statement st = c.createStatement()) {
            st.execute("select pg_terminate_backend(" + pid + ")");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ 9 no growth

    /**
     * 100,000 sessions, each begin/commit/close (one in a hundred writes a row). The agent keeps no
     * per-session state: its busy-session map is empty, its state size does not grow, and sessions it has
     * seen are collected (weak references to a sample are cleared).
     */
    private void noGrowth() throws Exception {
        int sessions = Integer.getInteger("sg.growth.sessions", 100_000);
        HikariDataSource pool = pool(2);
        SessionFactory sf = db.sessionFactory(pool, false);
        int stateBefore = Scenarios.agentStateSize();
        List<WeakReference<Session>> sample = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            try {
                if (i % 100 == 0) {
                    long id = ids.incrementAndGet();
                    db.insert(s, id);
                    tx.commit();
                    acked.add(id);
                } else {
                    tx.commit();
                }
            } finally {
                s.close();
            }
            if (i % 10_000 == 0) {
                sample.add(new WeakReference<>(s));
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        sf.close();
        for (int i = 0; i < 5 && sample.stream().anyMatch(r -> r.get() != null); i++) {
            System.gc();
        }
        long retained = sample.stream().filter(r -> r.get() != null).count();
        int stateAfter = Scenarios.agentStateSize();
        seen.put("sessions", String.valueOf(sessions));
        seen.put("ms", String.valueOf(ms));
        seen.put("retained", retained + " of " + sample.size() + " sampled sessions");
        seen.put("state", stateBefore + " -> " + stateAfter);
        if (retained != 0) {
            problems.add(retained + " sampled sessions not collected");
        }
        if (stateAfter > stateBefore && stateAfter > 0) {
            problems.add("agent state grew " + stateBefore + " -> " + stateAfter);
        }
        if (agentBusySessions() > 0) {
            problems.add(agentBusySessions() + " sessions still marked busy");
        }
    }

    // ------------------------------------------------------------------ 10 cleanup order

    /**
     * The same open transaction (a row written and locked), cleaned up in every order services use: the
     * usual one, session before transaction, factory before session, pool before factory. Every order must
     * end with no exception escaping and no connection or lock left behind.
     */
    private void cleanupOrder() throws Exception {
        Map<String, String> orders = new LinkedHashMap<>();
        for (String order : new String[] {"tx,session,factory,pool", "session,tx,factory,pool", "factory,tx,session,pool",
                "factory,session,tx,pool", "factory,session,pool,tx", "pool,tx,session,factory", "pool,factory,session,tx"}) {
            HikariDataSource pool = pool(2);
            SessionFactory sf = db.sessionFactory(pool, false);
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            long id = ids.incrementAndGet();
            db.insert(s, id);
            long backend = db.kind.equals("postgres")
                    ? ((Number) Hib.single(s, "select pg_backend_pid()")).longValue() : -1;
            List<String> threw = new ArrayList<>();
            int activeBeforePool = -1;
            for (String step : order.split(",")) {
                try {
                    switch (step) {
                        case "tx": tx.rollback(); break;
                        case "session": s.close(); break;
                        case "factory": sf.close(); break;
                        default:
                            activeBeforePool = pool.getHikariPoolMXBean().getActiveConnections();
                            pool.close();
                            break;
                    }
                } catch (RuntimeException e) {
                    threw.add(step + ": " + Scenarios.describe(e));
                }
            }
            long locks = db.locksOf(backend, 10000); // returns as soon as they are gone
            String row = db.rowFree(id);
            orders.put(order, (threw.isEmpty() ? "nothing thrown" : String.join(" | ", threw))
                    + "; connections in use before the pool closed " + (order.startsWith("pool") ? "n/a" : String.valueOf(activeBeforePool))
                    + "; locks " + locks);
            escaped.addAll(threw);
            if (!order.startsWith("pool") && activeBeforePool != 0) {
                problems.add(order + ": " + activeBeforePool + " connections still in use when the pool closed");
            }
            if (locks > 0) {
                problems.add(order + ": the backend still holds " + locks + " locks");
            }
            if (!row.equals("yes")) {
                problems.add(order + ": the row is still locked");
            }
        }
        seen.put("orders", orders.toString());
    }
}
