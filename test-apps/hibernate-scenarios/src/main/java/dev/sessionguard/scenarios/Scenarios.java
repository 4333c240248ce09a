package dev.sessionguard.scenarios;

import com.zaxxer.hikari.HikariDataSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;

/**
 * The 14 protection scenarios of the original incident, as a program: {@code Scenarios <name> <h2|postgres>}.
 * Each runs the code a legacy service runs, then prints what the caller saw as {@code RESULT key=value}
 * lines; the tests run it in a forked JVM with and without the agent and compare.
 *
 * <p>Keys used throughout: {@code caller} the exception the calling code finally saw ({@code none}),
 * {@code cleanup} what escaped from the cleanup (rollback/close) itself, {@code rows} rows found in the
 * database afterwards, {@code flag} the interrupt flag after the cleanup, {@code active} connections
 * still checked out of the pool, {@code usable} whether the database still answers.
 */
public final class Scenarios {

    private final Db db;
    private final Map<String, String> result = new LinkedHashMap<>();
    private HikariDataSource pool;
    private SessionFactory sf;

    private Scenarios(Db db) {
        this.db = db;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Scenarios <scenario> <h2|postgres>");
            System.exit(2);
        }
        Scenarios s = new Scenarios(new Db(args[1]));
        try {
            s.run(args[0]);
        } catch (Throwable t) {
            s.result.put("crash", describe(t));
            t.printStackTrace();
        }
        s.finish();
        System.exit(0);
    }

    private void run(String name) throws Exception {
        db.createTable();
        db.providerDisablesAutoCommit = name.equals("s23");
        pool = db.pool(name.equals("s12") ? 8 : 5, null, !db.providerDisablesAutoCommit);
        // s2, s6 and s10 are the JPA-bootstrap services: JPA compliance is on there by default
        // s24 is s15 with JPA compliance on: close() of a session whose factory is closed throws
        boolean jpa = name.equals("s2") || name.equals("s6") || name.equals("s10") || name.equals("s24");
        // s16/s17 stop a thread inside commit() with a hook on the pool's connections
        // s18 persists an entity, so the silent rollback can name what it lost
        boolean hooked = name.equals("s16") || name.equals("s17") || name.equals("s20") || name.equals("s21")
                || name.equals("s22");
        boolean mapped = name.equals("s18") || name.equals("s21") || name.equals("s22") || name.equals("s23") || name.equals("s25");
        sf = db.sessionFactory(hooked ? Hooks.hooked(pool) : pool, jpa, mapped,
                name.equals("s19") ? new HeldProvider(pool, factoryClosing, workerDone) : null);
        switch (name) {
            case "s1": interruptedWorkerCleanup(); break;
            case "s2": rollbackAfterCommitInFinally(); break;
            case "s3": rollbackAfterSessionClosedUnderIt(); break;
            case "s4": closeFromSecondThread(); break;
            case "s5": interruptedRollbackKeepsFlag(); break;
            case "s6": defensiveStateChecks(); break;
            case "s7": originalExceptionSurvivesFailedRollback(); break;
            case "s8": rollbackAfterPoolClosed(); break;
            case "s9": normalOperation(); break;
            case "s10": nestedSessions(); break;
            case "s11": rapidCycles(); break;
            case "s12": factoryClosedByShutdownHook(); break;
            case "s13": mixedErrors(); break;
            case "s14": failedCommitNeverSwallowed(); break;
            case "s15": factoryClosedSessionOnlyClosed(); break;
            case "s16": otherThreadDuring("commit", Hooks.BEFORE_COMMIT, false); break;
            case "s17": otherThreadDuring("commit", Hooks.BEFORE_COMMIT, true); break;
            case "s18": silentRollback(); break;
            case "s19": rollbackAfterConnectionReleased(); break;
            case "s20": otherThreadDuring("rollback", Hooks.BEFORE_ROLLBACK, false); break;
            case "s21": otherThreadDuring("flush", Hooks.BEFORE_STATEMENT, false); break;
            case "s22": otherThreadDuring("commit", Hooks.BEFORE_STATEMENT, false); break;
            case "s23": commitTakingItsConnectionLate(); break;
            case "s24": factoryClosedSessionOnlyClosed(); break;
            case "s25": commitAfterFactoryClosed(); break;
            case "s26": idleSessionClosedAfterFactoryClosed(); break;
            case "repeats": repeatedFailures(); break;
            default: throw new IllegalArgumentException("unknown scenario " + name);
        }
    }

    private void finish() {
        if (!result.containsKey("rows")) {
            result.put("rows", String.valueOf(db.rows()));
        }
        if (pool != null && !pool.isClosed() && !result.containsKey("active")) {
            result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
        }
        if (pool != null && !result.containsKey("usable")) {
            result.put("usable", pool.isClosed() ? "pool closed" : Db.usable(pool));
        }
        result.put("agentState", String.valueOf(agentStateSize()));
        print(result);
        try {
            if (sf != null) {
                sf.close();
            }
        } catch (Throwable ignored) {
            // already closed by the scenario
        }
        db.dropTable();
    }

    static synchronized void print(Map<String, String> r) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : r.entrySet()) {
            b.append("RESULT ").append(e.getKey()).append('=').append(e.getValue().replace('\n', ' ')).append('\n');
        }
        System.out.print(b);
        System.out.flush();
    }

    /** Class and message, with identity hashes taken out so that two runs compare equal. */
    static String describe(Throwable t) {
        if (t == null) {
            return "none";
        }
        String m = String.valueOf(t.getMessage()).replaceAll("@[0-9a-f]{4,}", "@<id>");
        return t.getClass().getName() + ": " + m;
    }

    /** Entries the agent keeps, read from its helper API when it is loaded (-1 without the agent). */
    static int agentStateSize() {
        try {
            return (Integer) Class.forName("dev.sessionguard.bootstrap.Guard").getMethod("stateSize").invoke(null);
        } catch (Throwable e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ 1

    /** A worker is cancelled while it waits inside a transaction; its finally block cleans up. */
    private void interruptedWorkerCleanup() throws Exception {
        CountDownLatch inTransaction = new CountDownLatch(1);
        AtomicReference<String> caller = new AtomicReference<>("none");
        AtomicReference<String> cleanup = new AtomicReference<>("none");
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                Session s = sf.openSession();
                Transaction tx = s.beginTransaction();
                try {
                    db.insert(s, 1);
                    inTransaction.countDown();
                    new CountDownLatch(1).await(); // waits for work that never comes: only an interrupt ends it
                    tx.commit();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // the textbook restore
                    throw new IllegalStateException("order worker cancelled", e);
                } finally {
                    try {
                        tx.rollback();
                        s.close();
                    } catch (RuntimeException e) {
                        cleanup.set(describe(e));
                        throw e;
                    }
                }
            } catch (Throwable t) {
                caller.set(describe(t));
            }
            flag.set(Thread.currentThread().isInterrupted());
        }, "order-worker");
        worker.start();
        inTransaction.await();
        worker.interrupt();
        worker.join();
        result.put("caller", caller.get());
        result.put("cleanup", cleanup.get());
        result.put("flag", String.valueOf(flag.get()));
    }

    // ------------------------------------------------------------------ 2

    /** {@code finally { tx.rollback(); }} after a commit that succeeded (a JPA-bootstrapped service). */
    private void rollbackAfterCommitInFinally() {
        try {
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            try {
                db.insert(s, 1);
                tx.commit();
            } finally {
                tx.rollback();
                s.close();
            }
            result.put("caller", "none");
        } catch (Throwable t) {
            result.put("caller", describe(t));
        }
    }

    // ------------------------------------------------------------------ 3

    /** Someone else closed the session (a framework, a timeout handler); then the owner rolls back. */
    private void rollbackAfterSessionClosedUnderIt() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        s.close();
        try {
            tx.rollback();
            s.close();
            result.put("cleanup", "none");
        } catch (Throwable t) {
            result.put("cleanup", describe(t));
        }
    }

    // ------------------------------------------------------------------ 4

    /** Thread B closes the session while thread A is inside its transaction. */
    private void closeFromSecondThread() throws Exception {
        Session s = sf.openSession();
        CountDownLatch aInTransaction = new CountDownLatch(1);
        CountDownLatch bClosed = new CountDownLatch(1);
        AtomicReference<String> aCaller = new AtomicReference<>("none");
        AtomicReference<String> aCleanup = new AtomicReference<>("none");
        AtomicReference<String> bCleanup = new AtomicReference<>("none");
        Thread a = new Thread(() -> {
            try {
                Transaction tx = s.beginTransaction();
                try {
                    db.insert(s, 1);
                    aInTransaction.countDown();
                    bClosed.await();
                    db.insert(s, 2);
                    tx.commit();
                } finally {
                    try {
                        tx.rollback();
                        s.close();
                    } catch (RuntimeException e) {
                        aCleanup.set(describe(e));
                        throw e;
                    }
                }
            } catch (Throwable t) {
                aCaller.set(describe(t));
            }
        }, "thread-A");
        Thread b = new Thread(() -> {
            try {
                aInTransaction.await();
                s.close();
            } catch (Throwable t) {
                bCleanup.set(describe(t));
            } finally {
                bClosed.countDown();
            }
        }, "thread-B");
        a.start();
        b.start();
        a.join();
        b.join();
        result.put("callerA", aCaller.get());
        result.put("cleanupA", aCleanup.get());
        result.put("cleanupB", bCleanup.get());
    }

    // ------------------------------------------------------------------ 5

    /** The thread's interrupt flag is set when it rolls back and closes. */
    private void interruptedRollbackKeepsFlag() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        for (int i = 1; i <= 50; i++) {
            db.insert(s, i);
        }
        Thread.currentThread().interrupt();
        try {
            tx.rollback();
            s.close();
            result.put("cleanup", "none");
        } catch (Throwable t) {
            result.put("cleanup", describe(t));
        }
        result.put("flag", String.valueOf(Thread.interrupted()));
    }

    // ------------------------------------------------------------------ 6

    /** Close twice, rollback twice, rollback without begin, with JPA compliance on (as JPA bootstraps have). */
    private void defensiveStateChecks() {
        Session s = sf.openSession();
        result.put("rollbackWithoutBegin", attempt(() -> s.getTransaction().rollback()));
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        result.put("rollback1", attempt(tx::rollback));
        result.put("rollback2", attempt(tx::rollback));
        result.put("close1", attempt(s::close));
        result.put("close2", attempt(s::close));
    }

    private static String attempt(Runnable r) {
        try {
            r.run();
            return "none";
        } catch (Throwable t) {
            return describe(t);
        }
    }

    // ------------------------------------------------------------------ 7

    /** A business exception inside the transaction, and the connection died before the rollback in catch. */
    private void originalExceptionSurvivesFailedRollback() {
        try {
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            try {
                db.insert(s, 1);
                db.killConnection(s, pool);
                throw new IllegalArgumentException("order 1 rejected: credit limit exceeded");
            } catch (RuntimeException e) {
                tx.rollback();
                throw e;
            } finally {
                s.close();
            }
        } catch (Throwable t) {
            result.put("caller", describe(t));
        }
    }

    // ------------------------------------------------------------------ 8

    /** The pool is closed (another component's shutdown) while a session is in its transaction. */
    private void rollbackAfterPoolClosed() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        pool.close();
        result.put("cleanup", attempt(() -> {
            tx.rollback();
            s.close();
        }));
    }

    // ------------------------------------------------------------------ 9

    /** Ordinary work: results, rows and exceptions must be the same with and without the agent. */
    private void normalOperation() {
        List<String> trace = new ArrayList<>();
        try (Hib.Open open = Hib.open(sf)) {
            Session s = open.session;
            Transaction tx = s.beginTransaction();
            for (int i = 1; i <= 5; i++) {
                db.insert(s, i);
            }
            tx.commit();
            trace.add("committed 5");
        }
        try (Hib.Open open = Hib.open(sf)) {
            Session s = open.session;
            Transaction tx = s.beginTransaction();
            try {
                db.insert(s, 3);
                tx.commit();
                trace.add("duplicate committed?!");
            } catch (RuntimeException e) {
                trace.add("duplicate -> " + e.getClass().getName());
                tx.rollback();
                trace.add("rolled back " + Hib.status(tx));
            }
        }
        try (Hib.Open open = Hib.open(sf)) {
            Session s = open.session;
            Transaction tx = s.beginTransaction();
            Object n = Hib.single(s, "select count(*) from " + db.table);
            tx.commit();
            trace.add("count " + n);
            trace.add("status " + Hib.status(tx));
        }
        result.put("trace", String.join(" | ", trace));
    }

    // ------------------------------------------------------------------ 10

    /** A helper that always rolls back in finally (a no-op in JDBC terms), used inside itself. */
    private void inTransaction(Consumer<Session> work) {
        try (Hib.Open open = Hib.open(sf)) {
            Session s = open.session;
            Transaction tx = s.beginTransaction();
            try {
                work.accept(s);
                tx.commit();
            } finally {
                tx.rollback(); // "make sure nothing stays open"
            }
        }
    }

    private void nestedSessions() {
        try {
            inTransaction(outer -> {
                db.insert(outer, 1);
                inTransaction(inner -> db.insert(inner, 2));
                db.insert(outer, 3);
            });
            result.put("caller", "none");
        } catch (Throwable t) {
            result.put("caller", describe(t));
        }
    }

    // ------------------------------------------------------------------ 11

    /**
     * 10,000 open/begin/commit/close cycles, three rounds: the first warms up (class loading, JIT), the
     * agent's state is read after it and after the last; the round times are for eyes, not for asserts.
     */
    private void rapidCycles() {
        List<String> millis = new ArrayList<>();
        int before = 0;
        long id = 0;
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < 10_000; i++) {
                try (Hib.Open open = Hib.open(sf)) {
                    Session s = open.session;
                    Transaction tx = s.beginTransaction();
                    if (i % 100 == 0) {
                        db.insert(s, id++);
                    }
                    tx.commit();
                }
            }
            millis.add(String.valueOf((System.nanoTime() - start) / 1_000_000));
            if (round == 0) {
                before = agentStateSize();
            }
        }
        result.put("cycles", "30000");
        result.put("millisPerRound", String.join(",", millis));
        result.put("stateBefore", String.valueOf(before));
        result.put("stateAfter", String.valueOf(agentStateSize()));
    }

    // ------------------------------------------------------------------ 12

    /**
     * Workers are inside transactions when the JVM is told to exit; the application's shutdown hook
     * closes the SessionFactory, then lets the workers go on. The hook prints the result.
     */
    private void factoryClosedByShutdownHook() throws Exception {
        int workers = 4;
        CountDownLatch inTransaction = new CountDownLatch(workers);
        CountDownLatch factoryClosed = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(workers);
        List<String> callers = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> cleanups = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int w = 0; w < workers; w++) {
            final int id = w + 1;
            Thread t = new Thread(() -> {
                try {
                    Session s = sf.openSession();
                    Transaction tx = s.beginTransaction();
                    try {
                        db.insert(s, id);
                        inTransaction.countDown();
                        factoryClosed.await();
                        db.insert(s, 100 + id);
                        tx.commit();
                    } finally {
                        try {
                            tx.rollback();
                            s.close();
                        } catch (RuntimeException e) {
                            cleanups.add(describe(e));
                            throw e;
                        }
                    }
                } catch (Throwable e) {
                    callers.add(describe(e));
                } finally {
                    done.countDown();
                }
            }, "worker-" + id);
            t.start();
        }
        inTransaction.await();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sf.close();
            factoryClosed.countDown();
            try {
                done.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            result.put("callers", callers.isEmpty() ? "none" : String.join(" ; ", new java.util.TreeSet<>(callers)));
            result.put("cleanupEscaped", String.valueOf(cleanups.size()));
            result.put("cleanup", cleanups.isEmpty() ? "none" : cleanups.get(0));
            result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
            result.put("rows", String.valueOf(db.rows()));
            sf = null;
            finish();
        }, "app-shutdown"));
        System.exit(0);
    }

    // ------------------------------------------------------------------ 13

    /** Interrupt flag set, connection dead, and a double close, all in one cleanup. */
    private void mixedErrors() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        db.killConnection(s, pool);
        Thread.currentThread().interrupt();
        try {
            tx.rollback();
            s.close();
            s.close();
            result.put("cleanup", "none");
        } catch (Throwable t) {
            result.put("cleanup", describe(t));
        }
        result.put("flag", String.valueOf(Thread.interrupted()));
    }

    // ------------------------------------------------------------------ repeats

    /** Scenario 3, a thousand times: counted a thousand times, logged a few times. */
    private void repeatedFailures() {
        int escaped = 0;
        for (int i = 0; i < 1000; i++) {
            Session s = sf.openSession();
            Transaction tx = s.beginTransaction();
            s.close();
            try {
                tx.rollback();
            } catch (RuntimeException e) {
                escaped++;
            }
        }
        result.put("escaped", String.valueOf(escaped));
    }

    // ------------------------------------------------------------------ 14

    /** The connection dies before commit: the caller must see the commit failure, the row must be absent. */
    private void failedCommitNeverSwallowed() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        db.killConnection(s, pool);
        try {
            tx.commit();
            result.put("caller", "none");
        } catch (Throwable t) {
            result.put("caller", describe(t));
        }
        result.put("cleanup", attempt(() -> {
            tx.rollback();
            s.close();
        }));
    }

    // ------------------------------------------------------------------ 15 (issue 4)

    /**
     * The factory is closed (a shutdown hook, a framework context) while a session holds a row lock in an
     * open transaction, and the service's cleanup is only session.close() (try-with-resources). Without the
     * agent close() does nothing: the connection stays checked out with its transaction and its locks.
     */
    private void factoryClosedSessionOnlyClosed() throws Exception {
        try (java.sql.Connection c = db.direct(); java.sql.Statement st = c.createStatement()) {
            st.execute("insert into " + db.table + " (id, item) values (1, 'stock')");
        }
        Session s = sf.openSession();
        s.beginTransaction();
        Hib.update(s, "update " + db.table + " set item = 'reserved' where id = 1");
        long backend = db.kind.equals("postgres")
                ? ((Number) Hib.single(s, "select pg_backend_pid()")).longValue() : -1;
        result.put("locksBefore", String.valueOf(db.locksOf(backend)));
        closeAfterItsFactory(s);
        result.put("locks", String.valueOf(db.locksOf(backend)));
        result.put("rowFree", db.rowFree(1));
        // what a leaked connection costs until the process ends; closing the pool aborts it, so the table can go
        pool.close();
    }

    /**
     * 26: a session that never took a connection (opened, not used), closed after its factory closed, as a shutdown
     * closes the sessions it finds. There is nothing to release and no transaction to roll back.
     */
    private void idleSessionClosedAfterFactoryClosed() {
        closeAfterItsFactory(sf.openSession());
    }

    /**
     * 15, 24, 26: the factory is closed, then the service's only cleanup, {@code s.close()}: what it threw ("cleanup")
     * and the connections left checked out ("active").
     */
    private void closeAfterItsFactory(Session s) {
        sf.close();
        try {
            s.close();
            result.put("cleanup", "none");
        } catch (RuntimeException e) {
            result.put("cleanup", describe(e));
        }
        result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
        sf = null;
    }

    // ------------------------------------------------------------------ 16, 17 (issue 4)

    /**
     * 16/17/20/21/22: thread A inside commit(), held where its JDBC commit reaches the pool (16, 17), inside
     * rollback() (20), inside a direct flush() of mapped entities (21) or inside the flush that commit() does
     * first (22), held there by a hook on the pool's connection; thread B calls close() on the same session,
     * or rollback() (17), as a request timeout or a shutdown path does. A goes on once B is either done or
     * waiting. Without the agent B's call ends A's transaction under it. With the agent B waits until A's call
     * has ended (close.waited): A's commit completes and its rows are in the database; A's rollback completes.
     * 21: the flush completes, then B's close goes through (the agent waits for a call in progress, not for a
     * transaction); A's commit comes after B's close, so it is refused and A is told: nothing half-written,
     * nothing acknowledged. A waits for B before its commit, so that order is the same every run.
     * Results: "call" is what A's held call threw, "commit" what A's commit threw (none: no commit, or it went through).
     */
    private void otherThreadDuring(String phase, ThreadLocal<Runnable> hook, boolean bRollsBack) throws Exception {
        boolean directFlush = phase.equals("flush");
        boolean mapped = hook == Hooks.BEFORE_STATEMENT;
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        for (long id = 1; id <= 3; id++) {
            if (mapped) {
                s.persist(new OrderRow(id));
            } else {
                db.insert(s, id);
            }
        }
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch bCalling = new CountDownLatch(1);
        CountDownLatch bDone = new CountDownLatch(1);
        AtomicReference<String> bSaw = new AtomicReference<>("none");
        Thread b = new Thread(() -> {
            try {
                inCall.await();
                bCalling.countDown();
                if (bRollsBack) {
                    tx.rollback();
                } else {
                    s.close();
                }
            } catch (Throwable e) {
                bSaw.set(describe(e));
            } finally {
                bDone.countDown();
            }
        }, "closer");
        AtomicReference<String> bState = new AtomicReference<>("?");
        hook.set(() -> {
            inCall.countDown();
            Cancellations.awaitUninterruptibly(bCalling);
            // go on when B has finished, or is held (waiting) inside its call
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (bDone.getCount() > 0 && !isWaiting(b) && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
            bState.set(bDone.getCount() == 0 ? "done before A's " + phase + " ended" : "held until A's " + phase + " ended");
        });
        b.start();
        String aSaw = "none";
        try {
            if (directFlush) {
                s.flush();
            } else if (phase.equals("commit")) {
                tx.commit();
            } else {
                tx.rollback();
            }
        } catch (RuntimeException e) {
            aSaw = describe(e);
        } finally {
            hook.remove();
        }
        String commit = phase.equals("commit") ? aSaw : "none";
        if (directFlush && aSaw.equals("none")) {
            bDone.await(30, TimeUnit.SECONDS); // B's close first, then A's commit: one order every run
            try {
                tx.commit();
            } catch (RuntimeException e) {
                commit = describe(e);
            }
        }
        b.join(30_000);
        try {
            s.close();
        } catch (RuntimeException e) {
            // closed by B already
        }
        result.put("call", aSaw);
        result.put("commit", commit);
        result.put("other", bSaw.get());
        result.put("otherState", bState.get());
        result.put("rows", String.valueOf(db.rows()));
    }

    /**
     * Is B held? Without the agent: any wait (nothing of ours holds it). With the agent: waiting inside
     * SessionBusy.await, the wait for A's call; not some other wait on the way there (the shield being armed).
     */
    private static boolean isWaiting(Thread t) {
        Thread.State st = t.getState();
        if (st != Thread.State.TIMED_WAITING && st != Thread.State.WAITING) {
            return false;
        }
        if (!AGENT) {
            return true;
        }
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals("dev.sessionguard.bootstrap.SessionBusy") && e.getMethodName().equals("await")) {
                return true;
            }
        }
        return false;
    }

    private static final boolean AGENT = agentStateSize() >= 0;

    // ------------------------------------------------------------------ 18 (issue 4)

    /**
     * A worker inside a transaction; the factory is closed under it (a shutdown hook). Its next call on the
     * session fails with "Session/EntityManager is closed", which marks the transaction rollback-only; the
     * legacy code treats that call as optional (logs and goes on) and commits. commit() returns normally and
     * rolls back: the order was acknowledged but is not in the database.
     */
    private void silentRollback() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        s.persist(new OrderRow(1));
        s.flush();
        sf.close();
        String audit = "none";
        try {
            db.insert(s, 1001); // the optional audit row
        } catch (RuntimeException e) {
            audit = describe(e);
        }
        result.put("audit", audit);
        commitAfterTheFactory(s, tx);
        result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
    }

    /**
     * The end of 18 and 25: commit() on a session of a closed factory; what the caller saw (caller, acknowledged),
     * the session closed as the service does, and the rows in the database.
     */
    private void commitAfterTheFactory(Session s, Transaction tx) {
        String caller = "none";
        boolean acknowledged = false;
        try {
            tx.commit();
            acknowledged = true;
        } catch (RuntimeException e) {
            caller = describe(e);
        }
        result.put("caller", caller);
        result.put("acknowledged", String.valueOf(acknowledged));
        try {
            s.close();
        } catch (RuntimeException e) {
            // nothing to do
        }
        result.put("rows", String.valueOf(db.rows()));
        sf = null;
    }

    // ------------------------------------------------------------------ 23

    /**
     * An ordinary commit where the pool's connections come with auto-commit off and Hibernate is told so
     * (hibernate.connection.provider_disables_autocommit, a common HikariCP tuning): begin() takes no connection, and
     * the entity's insert, with its id assigned, waits for the flush inside commit(). Nothing is wrong: the row is
     * committed. (The agent took the missing connection at commit() for one released mid-transaction, reported a
     * silent rollback at ERROR and, with silentRollback=throw, threw from a commit that had committed.)
     */
    private void commitTakingItsConnectionLate() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        s.persist(new OrderRow(1));
        String caller = "none";
        try {
            tx.commit();
        } catch (RuntimeException e) {
            caller = describe(e);
        }
        s.close();
        result.put("caller", caller);
    }

    // ------------------------------------------------------------------ 25

    /**
     * A shutdown hook closes the factory while a worker's transaction is open: one row written by a statement, one
     * entity persisted (its insert queued for the flush). The worker's commit() returns normally: Hibernate skips the
     * flush of a session whose factory is closed and commits what the statement wrote. The order is acknowledged;
     * half of it is in the database.
     */
    private void commitAfterFactoryClosed() {
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        s.persist(new OrderRow(2));
        sf.close();
        commitAfterTheFactory(s, tx);
    }

    /**
     * The herd's rare case, made deterministic: a worker's statement runs on PostgreSQL while another thread
     * closes the factory (a shutdown hook). When the statement ends, Hibernate releases the connection to the
     * pool although the transaction is not over; the pool rolls the work back. The worker's catch block then
     * calls rollback(), which runs on a connection with no transaction: PostgreSQL refuses ("Cannot rollback
     * when autoCommit is enabled") and that failure replaces the worker's own exception.
     */
    /** s19: close() of the factory stops where the factory is marked closed and its services still run. */
    private final java.util.concurrent.CountDownLatch factoryClosing = new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.CountDownLatch workerDone = new java.util.concurrent.CountDownLatch(1);

    /**
     * The pool as Hibernate's connection provider, whose stop() (called by SessionFactory.close() after the
     * factory is marked closed) waits until the worker is done: the window a shutdown hook's close() opens.
     */
    static final class HeldProvider implements org.hibernate.engine.jdbc.connections.spi.ConnectionProvider,
            org.hibernate.service.spi.Stoppable {
        private final javax.sql.DataSource pool;
        private final java.util.concurrent.CountDownLatch stopping;
        private final java.util.concurrent.CountDownLatch release;

        HeldProvider(javax.sql.DataSource pool, java.util.concurrent.CountDownLatch stopping, java.util.concurrent.CountDownLatch release) {
            this.pool = pool;
            this.stopping = stopping;
            this.release = release;
        }

        @Override
        public java.sql.Connection getConnection() throws java.sql.SQLException {
            return pool.getConnection();
        }

        @Override
        public void closeConnection(java.sql.Connection c) throws java.sql.SQLException {
            c.close();
        }

        @Override
        public boolean supportsAggressiveRelease() {
            return false;
        }

        // raw: Hibernate 5 declares it raw, 6 and 7 with Class<?>; the raw form implements both
        @SuppressWarnings("rawtypes")
        public boolean isUnwrappableAs(Class type) {
            return false;
        }

        @Override
        public <T> T unwrap(Class<T> type) {
            throw new org.hibernate.service.UnknownUnwrapTypeException(type);
        }

        @Override
        public void stop() {
            stopping.countDown();
            try {
                release.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void rollbackAfterConnectionReleased() throws Exception {
        if (!db.kind.equals("postgres")) {
            throw new IllegalArgumentException("s19 needs PostgreSQL (advisory locks)");
        }
        Session s = sf.openSession();
        Transaction tx = s.beginTransaction();
        db.insert(s, 1);
        // the worker's statement waits for an advisory lock the closer holds; the closer lets it go only once the
        // factory is marked closed: the statement always ends inside the factory's close()
        String lock = String.valueOf(ProcessHandle.current().pid()); // this run's key (a table of its own is named the same way)
        java.util.concurrent.CountDownLatch lockHeld = new java.util.concurrent.CountDownLatch(1);
        Thread factoryClose = new Thread(() -> sf.close(), "shutdown-hook");
        Thread closer = new Thread(() -> {
            try (java.sql.Connection c = db.direct(); java.sql.Statement st = c.createStatement()) {
                st.execute("select pg_advisory_lock(" + lock + ")");
                lockHeld.countDown();
                // wait until the worker's statement is on the server, waiting for the lock (bounded: 30 s)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                boolean waiting = false;
                while (!waiting && System.nanoTime() < deadline) {
                    try (java.sql.ResultSet rs = st.executeQuery(
                            "select count(*) from pg_locks where locktype = 'advisory' and not granted and classid = 0 and objid = " + lock)) {
                        rs.next();
                        waiting = rs.getInt(1) > 0;
                    }
                    Thread.onSpinWait();
                }
                factoryClose.start();
                factoryClosing.await(30, TimeUnit.SECONDS); // the factory is marked closed, its provider not yet stopped
                st.execute("select pg_advisory_unlock(" + lock + ")");
            } catch (Exception e) {
                result.put("closer", describe(e));
            }
        }, "closer");
        closer.start();
        lockHeld.await();
        String worker = "none";
        String cleanup = "none";
        try {
            try {
                Hib.single(s, "select 1 from pg_advisory_xact_lock(" + lock + ")");
                db.insert(s, 2);
                tx.commit();
            } catch (RuntimeException e) {
                worker = describe(e);
                try {
                    tx.rollback();
                } catch (RuntimeException r) {
                    cleanup = describe(r);
                    throw r;
                }
                throw e;
            } finally {
                try {
                    s.close();
                } catch (RuntimeException e) {
                    if (cleanup.equals("none")) {
                        cleanup = "close: " + describe(e);
                    }
                }
            }
        } catch (RuntimeException e) {
            result.put("caller", describe(e));
        }
        result.put("factoryWasClosing", String.valueOf(factoryClosing.getCount() == 0));
        workerDone.countDown();
        closer.join();
        factoryClose.join();
        result.put("worker", worker);
        result.put("cleanup", cleanup);
        result.put("rows", String.valueOf(db.rows()));
        result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
        sf = null;
    }
}
