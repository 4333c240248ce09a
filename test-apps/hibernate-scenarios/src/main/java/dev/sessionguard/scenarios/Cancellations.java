package dev.sessionguard.scenarios;

import com.zaxxer.hikari.HikariDataSource;
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
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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
 * The 10 cancellation stress tests: {@code Cancellations <test> <repetitions> <seed>}. Each repetition
 * cancels tasks ({@code Future.cancel(true)}) at points the test chooses, waits for every task, and checks
 * what a user cares about:
 * <ul>
 *   <li>no exception escaped a cleanup (rollback/close in catch/finally);</li>
 *   <li>every order the service acknowledged is in the database;</li>
 *   <li>no connection is left checked out, the database still answers;</li>
 *   <li>no interrupt was lost: every cancelled task that ran saw its interrupt.</li>
 * </ul>
 * Cancellation points are made deterministic with latches: a task that is to be cancelled "somewhere"
 * signals that it is there and, like JDBC code that never checks the flag, carries on only once the
 * cancel has been sent. Prints {@code RESULT passed=N} and the first failure.
 */
public final class Cancellations {

    private final Db db;
    private final HikariDataSource pool;
    private final SessionFactory sf;
    private final Set<Long> acked = ConcurrentHashMap.newKeySet();
    private final List<String> escaped = Collections.synchronizedList(new ArrayList<>());
    private final List<String> lostInterrupts = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong ids = new AtomicLong();
    /** As many threads as pooled connections: a task never waits for a connection, so interrupts land where the test says. */
    private static final int THREADS = 6;
    private final ExecutorService executor = Executors.newFixedThreadPool(THREADS);

    private static final ThreadLocal<Runnable> BEFORE_COMMIT = Hooks.BEFORE_COMMIT;
    private static final ThreadLocal<Runnable> BEFORE_ROLLBACK = Hooks.BEFORE_ROLLBACK;

    private Cancellations(Db db) {
        this.db = db;
        this.pool = db.pool(THREADS);
        this.sf = db.sessionFactory(Hooks.hooked(pool), false);
    }

    public static void main(String[] args) throws Exception {
        String test = args[0];
        int reps = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        System.out.println("seed " + seed);
        Db db = new Db(args.length > 3 ? args[3] : "h2");
        db.createTable();
        Cancellations c = new Cancellations(db);
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
        result.put("agentState", String.valueOf(Scenarios.agentStateSize()));
        Scenarios.print(result);
        c.executor.shutdownNow();
        db.dropTable();
        System.exit(0);
    }

    // ------------------------------------------------------------------ the checks

    /** Null when every invariant holds, else what broke. Resets the per-repetition records. */
    private String check() {
        List<String> problems = new ArrayList<>();
        if (!escaped.isEmpty()) {
            problems.add(escaped.size() + " exceptions escaped cleanup, first " + escaped.get(0));
        }
        if (!lostInterrupts.isEmpty()) {
            problems.add("interrupts lost in " + lostInterrupts);
        }
        int active = pool.getHikariPoolMXBean().getActiveConnections();
        if (active != 0) {
            problems.add(active + " connections left checked out");
        }
        String usable = Db.usable(pool);
        if (!usable.equals("yes")) {
            problems.add("database unusable: " + usable);
        }
        Set<Long> found = idsInDatabase();
        long missing = acked.stream().filter(id -> !found.contains(id)).count();
        if (missing > 0) {
            problems.add(missing + " acknowledged orders missing");
        }
        escaped.clear();
        lostInterrupts.clear();
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private Set<Long> idsInDatabase() {
        Set<Long> ids = new TreeSet<>();
        try (Connection c = db.direct(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id from " + db.table)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        } catch (Exception e) {
            ids.add(-1L);
        }
        return ids;
    }

    // ------------------------------------------------------------------ the service's order code

    /** What an order does between insert and commit; may block, may throw. */
    interface Work {
        void run(Session s) throws Exception;
    }

    /** One order, written as legacy code writes it: rollback in catch, close in finally. */
    private Callable<Void> order(Work work) {
        return () -> {
            long id = ids.incrementAndGet();
            boolean sawInterrupt = false;
            try {
                Session s = sf.openSession();
                Transaction tx = null;
                try {
                    tx = s.beginTransaction();
                    db.insert(s, id);
                    work.run(s);
                    tx.commit();
                    acked.add(id);
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        sawInterrupt = true;
                        Thread.currentThread().interrupt();
                    }
                    if (tx != null) {
                        cleanup(tx::rollback);
                    }
                    throw e;
                } finally {
                    cleanup(s::close);
                }
            } finally {
                BEFORE_COMMIT.remove();
                BEFORE_ROLLBACK.remove();
                sawInterrupt |= Thread.currentThread().isInterrupted();
                if (!sawInterrupt) {
                    INTERRUPT_NOT_SEEN.set(true);
                }
            }
            return null;
        };
    }

    /** Set when a task finished without seeing an interrupt; read by {@link #cancelled}. */
    private static final ThreadLocal<Boolean> INTERRUPT_NOT_SEEN = new ThreadLocal<>();

    private void cleanup(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            escaped.add(Scenarios.describe(e));
            throw e;
        }
    }

    /**
     * A task that will be cancelled: runs {@code order(work)}, and records a lost interrupt when it ran to
     * the end without ever seeing the interrupt that cancelled it.
     */
    private Callable<Void> cancelled(String name, Work work) {
        Callable<Void> order = order(work);
        return () -> {
            INTERRUPT_NOT_SEEN.set(false);
            try {
                return order.call();
            } finally {
                if (Boolean.TRUE.equals(INTERRUPT_NOT_SEEN.get())) {
                    lostInterrupts.add(name);
                }
                INTERRUPT_NOT_SEEN.remove();
            }
        };
    }

    /** Waits like code that ignores interrupts, then restores the flag it saw. */
    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops here until the test has cancelled this task, without noticing the interrupt (as JDBC code does). */
    static Work cancelPoint(CountDownLatch here, CountDownLatch cancelSent) {
        return s -> {
            here.countDown();
            awaitUninterruptibly(cancelSent);
        };
    }

    /** The test thread's waits are bounded: without the agent a task can fail before it gets where it signals. */
    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a task never got to its cancellation point (it failed before)");
        }
    }

    private static void waitAll(List<Future<?>> futures) throws InterruptedException {
        for (Future<?> f : futures) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.CancellationException | java.util.concurrent.ExecutionException e) {
                // cancelled, or the order failed: both are outcomes, checked by check()
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("a task did not finish in 60 s");
            }
        }
    }

    /**
     * Future.cancel(true) returns before the task has finished its cleanup; this waits until it has (the
     * executor's worker is back), so that the checks see the end state.
     */
    private void quiesce() throws InterruptedException {
        CountDownLatch idle = new CountDownLatch(THREADS);
        List<Future<?>> probes = new ArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < THREADS; i++) {
            probes.add(executor.submit(() -> {
                idle.countDown();
                awaitUninterruptibly(release);
                return null;
            }));
        }
        await(idle);
        release.countDown();
        waitAll(probes);
    }

    // ------------------------------------------------------------------ the ten tests

    private void run(String test, Random random) throws Exception {
        switch (test) {
            case "immediate": immediateCancellationAfterOpen(); break;
            case "commit": cancellationDuringCommit(); break;
            case "rollback": cancellationDuringRollback(); break;
            case "cascade": cascadingCancellation(); break;
            case "random": randomCancellations(random); break;
            case "cleanup": resourceCleanup(); break;
            case "growth": noGrowth(); break;
            case "h2": h2WorkersShutdownNow(); break;
            case "reuse": reuseAfterCancellations(); break;
            case "partial": partialCancellation(); break;
            default: throw new IllegalArgumentException("unknown test " + test);
        }
        quiesce();
    }

    /** 1: cancelled right after the session opened; the task carries on and commits with the flag set. */
    private void immediateCancellationAfterOpen() throws Exception {
        CountDownLatch opened = new CountDownLatch(1);
        CountDownLatch cancelSent = new CountDownLatch(1);
        Future<?> f = executor.submit(cancelled("immediate", cancelPoint(opened, cancelSent)));
        await(opened);
        f.cancel(true);
        cancelSent.countDown();
    }

    /** 2: cancelled while the commit is on its way to the database. */
    private void cancellationDuringCommit() throws Exception {
        CountDownLatch inCommit = new CountDownLatch(1);
        CountDownLatch cancelSent = new CountDownLatch(1);
        Future<?> f = executor.submit(cancelled("commit", s -> BEFORE_COMMIT.set(() -> {
            inCommit.countDown();
            awaitUninterruptibly(cancelSent);
        })));
        await(inCommit);
        f.cancel(true);
        cancelSent.countDown();
    }

    /** 3: the order fails, and it is cancelled while its rollback is on its way to the database. */
    private void cancellationDuringRollback() throws Exception {
        CountDownLatch inRollback = new CountDownLatch(1);
        CountDownLatch cancelSent = new CountDownLatch(1);
        Future<?> f = executor.submit(cancelled("rollback", s -> {
            BEFORE_ROLLBACK.set(() -> {
                inRollback.countDown();
                awaitUninterruptibly(cancelSent);
            });
            throw new IllegalStateException("order rejected");
        }));
        await(inRollback);
        f.cancel(true);
        cancelSent.countDown();
    }

    /** 4: A waits inside its transaction; B waits for A, C for B, each inside its own; A is cancelled. */
    private void cascadingCancellation() throws Exception {
        CountDownLatch aWaiting = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        Future<?> a = executor.submit(cancelled("A", s -> {
            aWaiting.countDown();
            never.await();
        }));
        await(aWaiting);
        CountDownLatch dependentsWaiting = new CountDownLatch(2);
        // B and C are cancelled by the cascade, not by an interrupt: A's cancellation fails them
        Future<?> b = executor.submit(order(s -> {
            dependentsWaiting.countDown();
            a.get();
        }));
        Future<?> c = executor.submit(order(s -> {
            dependentsWaiting.countDown();
            b.get();
        }));
        await(dependentsWaiting);
        a.cancel(true);
        waitAll(java.util.Arrays.asList(b, c));
    }

    /** 5: 12 orders, a seeded random half cancelled at a random statement; the rest commit. */
    private void randomCancellations(Random random) throws Exception {
        List<Future<?>> all = new ArrayList<>();
        List<CountDownLatch[]> toCancel = new ArrayList<>();
        List<Future<?>> cancelledFutures = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int statements = 1 + random.nextInt(4);
            boolean cancel = random.nextBoolean();
            int at = random.nextInt(statements);
            CountDownLatch here = new CountDownLatch(1);
            CountDownLatch sent = new CountDownLatch(1);
            Work work = s -> {
                for (int k = 0; k < statements; k++) {
                    if (cancel && k == at) {
                        here.countDown();
                        awaitUninterruptibly(sent);
                    }
                    Hib.single(s, "select count(*) from " + db.table);
                }
            };
            Future<?> f = executor.submit(cancel ? cancelled("random-" + i, work) : order(work));
            all.add(f);
            if (cancel) {
                toCancel.add(new CountDownLatch[] {here, sent});
                cancelledFutures.add(f);
            }
        }
        for (int i = 0; i < toCancel.size(); i++) {
            await(toCancel.get(i)[0]);
            cancelledFutures.get(i).cancel(true);
            toCancel.get(i)[1].countDown();
        }
        waitAll(all);
    }

    /** 6: 20 orders wait inside their transactions, 6 at a time; each is cancelled once it waits there. */
    private void resourceCleanup() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        List<Future<?>> all = new ArrayList<>();
        List<CountDownLatch> parked = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            CountDownLatch here = new CountDownLatch(1);
            parked.add(here);
            all.add(executor.submit(order(s -> {
                here.countDown();
                never.await();
            })));
        }
        // each cancel frees a thread and a connection for the next order, which then waits in turn
        for (int i = 0; i < 20; i++) {
            await(parked.get(i));
            all.get(i).cancel(true);
        }
        waitAll(all);
    }

    /** 7: 100,000 session cycles, every 100th with its interrupt flag set at commit. */
    private void noGrowth() throws Exception {
        int stateBefore = Scenarios.agentStateSize();
        AtomicInteger flagged = new AtomicInteger();
        Future<?> f = executor.submit(() -> {
            for (int i = 0; i < 100_000; i++) {
                try (Hib.Open open = Hib.open(sf)) {
                    Session s = open.session;
                    Transaction tx = s.beginTransaction();
                    if (i % 100 == 0) {
                        Thread.currentThread().interrupt();
                        flagged.incrementAndGet();
                    }
                    tx.commit();
                }
                if (Thread.interrupted() != (i % 100 == 0)) {
                    lostInterrupts.add("cycle " + i);
                }
            }
            return null;
        });
        f.get();
        int stateAfter = Scenarios.agentStateSize();
        if (stateAfter > stateBefore && stateBefore >= 0) {
            escaped.add("agent state grew from " + stateBefore + " to " + stateAfter);
        }
    }

    /** 8: the embedded H2 case: shutdownNow() on four committing workers must not close the database. */
    private void h2WorkersShutdownNow() throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        CountDownLatch warm = new CountDownLatch(20);
        AtomicInteger stillGoing = new AtomicInteger(4);
        for (int w = 0; w < 4; w++) {
            workers.submit(() -> {
                boolean interrupted = false;
                // carries on for one more order after the interrupt, as code that never checks the flag does
                while (!interrupted) {
                    interrupted = Thread.currentThread().isInterrupted();
                    try {
                        order(s -> { }).call();
                    } catch (Exception e) {
                        // counted through acked/escaped
                    }
                    warm.countDown();
                }
                stillGoing.decrementAndGet();
                return null;
            });
        }
        await(warm);
        workers.shutdownNow();
        if (!workers.awaitTermination(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("workers did not stop");
        }
    }

    /** 9: after cancellations, the same factory and pool take 50 orders. */
    private void reuseAfterCancellations() throws Exception {
        for (int i = 0; i < 5; i++) {
            immediateCancellationAfterOpen();
        }
        quiesce();
        int before = acked.size();
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(executor.submit(order(s -> { })));
        }
        waitAll(all);
        if (acked.size() - before != 50) {
            escaped.add("only " + (acked.size() - before) + " of 50 orders committed after the cancellations");
        }
    }

    /** 10: 16 orders wait inside their transactions; the even ones are cancelled, the odd ones go on and commit. */
    private void partialCancellation() throws Exception {
        List<Future<?>> all = new ArrayList<>();
        List<CountDownLatch> go = new ArrayList<>();
        List<CountDownLatch> parked = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            CountDownLatch proceed = new CountDownLatch(1);
            CountDownLatch here = new CountDownLatch(1);
            go.add(proceed);
            parked.add(here);
            Work w = s -> {
                here.countDown();
                proceed.await();
            };
            all.add(executor.submit(i % 2 == 0 ? cancelled("partial-" + i, w) : order(w)));
        }
        int before = acked.size();
        for (int i = 0; i < 16; i++) {
            await(parked.get(i));
            if (i % 2 == 0) {
                all.get(i).cancel(true);
            } else {
                go.get(i).countDown();
            }
        }
        waitAll(all);
        if (acked.size() - before != 8) {
            escaped.add((acked.size() - before) + " of the 8 orders that were not cancelled committed");
        }
    }
}
