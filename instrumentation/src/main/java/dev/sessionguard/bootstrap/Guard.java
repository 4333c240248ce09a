package dev.sessionguard.bootstrap;

import java.io.InterruptedIOException;
import java.lang.reflect.Method;
import java.nio.channels.ClosedByInterruptException;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The policy, in one place. Inlined advice in Hibernate and JDBC classes calls these static methods;
 * this class is appended to the bootstrap class path so that every class loader that loads a target
 * sees the same single copy.
 *
 * <p>Rules for this package: no dependencies beyond java.base (java.sql is not visible from the
 * bootstrap loader on JDK 9+), no allocation and no locking on the normal path, and nothing here may
 * throw into the application: advice is {@code suppress = Throwable.class}, and every method below
 * answers "do what the library would have done" when in doubt.
 */
public final class Guard {

    // ---------------------------------------------------------------- modes, operations, flags

    public static final int MODE_OFF = 0;
    public static final int MODE_OBSERVE = 1;
    public static final int MODE_PROTECT = 2;

    static final int OP_CLOSE = 0;
    static final int OP_ROLLBACK = 1;
    static final int OP_COMMIT = 2;

    /** The call is the outermost guarded call on this thread: it decides. */
    static final int OUTER = 1;
    /** A guarded call inside another one (pool proxy to driver, Hibernate to JDBC): it only passes through. */
    static final int NESTED = 2;
    /** The interrupt flag was set on entry and cleared for the call; it is set again on exit. */
    static final int SHIELDED = 4;
    /** The interrupt flag was set on entry (observe mode leaves it alone, but classification uses it). */
    static final int INTERRUPTED_AT_ENTRY = 8;
    /** The thread is registered in {@link #SHIELDED_CALLS}: interrupts sent to it are held back. */
    static final int REGISTERED = 16;

    private static volatile int mode = MODE_OFF;
    private static volatile boolean shield = true;
    private static volatile boolean shutdownSeen;
    private static volatile long shieldMaxNanos = TimeUnit.MILLISECONDS.toNanos(2000);
    private static volatile long closeWaitNanos = TimeUnit.MILLISECONDS.toNanos(5000);
    private static volatile boolean silentRollbackThrows;

    /**
     * A thread's guarded-call state, one per thread, reused for every call (one thread-local lookup on
     * enter and one on exit). {@code depth} is touched by its own thread only; the rest is what the
     * interrupt shield holds, read by other threads under the lock. The generation tells a deadline task
     * whether the call it was scheduled for is still running.
     */
    static final class Shield {
        int depth;          // own thread only: guarded calls in progress (pool proxy -> driver, Hibernate -> JDBC)
        boolean open;       // guarded by this: the thread is inside a shielded call
        boolean pending;    // guarded by this: an interrupt is being held back
        long generation;    // guarded by this
        /** Guarded by this: the session this thread is committing, rolling back or flushing, else null. */
        Object busySession;
        /** Guarded by this: incremented when a busy section ends; a waiter watches it. */
        long busyRound;
        /** Own thread only: the last commit failure of this thread, until its next commit or a clean close. */
        Throwable commitFailure;
    }

    private static final ThreadLocal<Shield> SHIELD = new ThreadLocal<Shield>() {
        @Override
        protected Shield initialValue() {
            return new Shield();
        }
    };

    /** Threads inside a shielded call right now: one entry per such thread, removed when the call returns. */
    private static final ConcurrentHashMap<Thread, Shield> SHIELDED_CALLS = new ConcurrentHashMap<Thread, Shield>();

    private static volatile ScheduledExecutorService deadlines;

    private static final AtomicLongArray COUNTS = new AtomicLongArray(Events.KINDS.length * Events.REASONS.length);

    private Guard() {
    }

    /** Sessions with a commit, rollback or flush in progress, mapped to the state of the thread doing it. */
    private static final ConcurrentHashMap<Object, Shield> BUSY = new ConcurrentHashMap<Object, Shield>();

    /** Called once by the agent when it has installed its transformer. */
    public static void configure(int newMode, boolean newShield, long newShieldMaxMs, long newCloseWaitMs,
                                 boolean newSilentRollbackThrows, EventLog log) {
        shield = newShield;
        shieldMaxNanos = TimeUnit.MILLISECONDS.toNanos(newShieldMaxMs);
        closeWaitNanos = TimeUnit.MILLISECONDS.toNanos(newCloseWaitMs);
        silentRollbackThrows = newSilentRollbackThrows;
        EventLog.active = log;
        mode = newMode;
    }

    public static int mode() {
        return mode;
    }

    /**
     * Switches the mode of a running agent (JMX, detach). Safe at any moment: a call decides with the mode
     * it entered under (its flags), so a call in progress finishes as it began.
     */
    public static void setMode(int newMode) {
        mode = newMode;
    }

    public static boolean shield() {
        return shield;
    }

    // ---------------------------------------------------------------- called by advice

    /**
     * First call of every enter advice. Returns the flags the exit advice hands back. Cheap: one volatile
     * read, one thread-local increment, and {@code Thread.interrupted()} when the shield is on.
     */
    public static int enter() {
        if (mode == MODE_OFF) {
            return 0;
        }
        Shield s = SHIELD.get();
        if (s.depth > 0) {
            s.depth++;
            return NESTED;
        }
        int flags = OUTER;
        if (mode == MODE_PROTECT && shield) {
            // the first guarded calls of a JVM's life: Thread.interrupt() is being instrumented right now, on
            // the agent's own thread; wait for it (bounded), so no interrupt can slip into this call
            boolean interruptedWhileArming = shieldArming && awaitShieldArmed();
            // registered first: an interrupt sent from now on is held back, one sent before is in the flag
            Thread self = Thread.currentThread();
            synchronized (s) {
                s.open = true;
                s.pending = false;
                s.generation++;
            }
            SHIELDED_CALLS.put(self, s);
            flags |= REGISTERED;
            // clears the flag: the call below runs as if no interrupt had been sent
            if (Thread.interrupted() || interruptedWhileArming) {
                flags |= SHIELDED | INTERRUPTED_AT_ENTRY;
            }
        } else if (Thread.currentThread().isInterrupted()) {
            flags |= INTERRUPTED_AT_ENTRY;
        }
        s.depth = 1;
        return flags;
    }

    /** True while the agent instruments Thread.interrupt() (after the first library class was woven). */
    private static volatile boolean shieldArming;
    private static final Object ARMING = new Object();

    /**
     * Called by the agent: true when it begins instrumenting the interrupt methods, false when it is done
     * (or gave up). Guarded calls that begin meanwhile wait for it, at most shieldMaxMs.
     */
    public static void shieldArming(boolean arming) {
        synchronized (ARMING) {
            shieldArming = arming;
            if (!arming) {
                ARMING.notifyAll();
            }
        }
    }

    /** Waits until the interrupt methods are instrumented, at most shieldMaxMs. True when the thread was interrupted (flag now clear). */
    private static boolean awaitShieldArmed() {
        boolean interrupted = Thread.interrupted();
        long deadline = System.nanoTime() + shieldMaxNanos;
        synchronized (ARMING) {
            while (shieldArming) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    ARMING.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        return interrupted;
    }

    /**
     * Called by {@code Thread.interrupt()}: true to hold the interrupt back because the target is inside a
     * shielded call. It is delivered when the call returns, or after shieldMaxMs at the latest.
     */
    public static boolean deferInterrupt(Thread target) {
        if (mode != MODE_PROTECT || !shield || target == Thread.currentThread()) {
            return false;
        }
        Shield s = SHIELDED_CALLS.get(target);
        if (s == null) {
            return false;
        }
        long generation;
        synchronized (s) {
            if (!s.open) {
                return false;
            }
            if (s.pending) {
                return true;
            }
            s.pending = true;
            generation = s.generation;
        }
        scheduleDeadline(target, s, generation);
        record(Events.INTERRUPT_DEFERRED, Events.INTERRUPT, EventLog.INFO, true, null, "java.lang.Thread#interrupt",
                null, "interrupt of " + target.getName() + " held back until its call returns");
        return true;
    }

    private static void scheduleDeadline(final Thread target, final Shield s, final long generation) {
        deadlines().schedule(new Runnable() {
            @Override
            public void run() {
                boolean deliver;
                synchronized (s) {
                    deliver = s.open && s.pending && s.generation == generation;
                    if (deliver) {
                        // the call took longer than shieldMaxMs: stop shielding it and deliver now
                        s.pending = false;
                        s.open = false;
                    }
                }
                if (deliver) {
                    target.interrupt();
                }
            }
        }, shieldMaxNanos, TimeUnit.NANOSECONDS);
    }

    private static ScheduledExecutorService deadlines() {
        ScheduledExecutorService d = deadlines;
        if (d == null) {
            synchronized (Guard.class) {
                d = deadlines;
                if (d == null) {
                    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, new ThreadFactory() {
                        @Override
                        public Thread newThread(Runnable r) {
                            Thread t = new Thread(r, "sessionguard-interrupt-deadline");
                            t.setDaemon(true);
                            return t;
                        }
                    });
                    e.setRemoveOnCancelPolicy(true);
                    deadlines = d = e;
                }
            }
        }
        return d;
    }

    // ---------------------------------------------------------------- one session, two threads

    /**
     * commit(), rollback() or close() of a session: when another thread is inside commit, rollback, close or
     * flush of the same session, waits until that call ends, at most closeWaitMs (close.waited, reason
     * concurrent); then marks the session busy for this thread, so that the next one waits for this call.
     * Wait and mark are one step (a map insert that fails while another thread holds the session), so two
     * threads never both go ahead. Only a thread's outermost guarded call waits, and never while it holds a
     * session busy itself: waits never nest and never form a cycle, and each is bounded. Returns true when
     * this call marked the session (and must call {@link #notBusy}).
     */
    public static boolean acquire(int flags, Object session, Object self, String site) {
        if ((flags & OUTER) == 0 || session == null) {
            return false;
        }
        Shield mine = SHIELD.get();
        long start = 0;
        boolean interrupted = false;
        while (true) {
            Shield other = BUSY.putIfAbsent(session, mine);
            if (other == null) {
                synchronized (mine) {
                    mine.busySession = session;
                }
                break;
            }
            if (other == mine || mine.busySession != null) {
                return false; // this thread's own call (flush inside commit), or it holds another session
            }
            String op = site.substring(site.lastIndexOf('#') + 1);
            if (mode != MODE_PROTECT) {
                record(Events.CLOSE_WAITED, Events.CONCURRENT, EventLog.WARN, false, self, site, null,
                        op + " while another thread is inside commit, rollback, close or flush of the same session");
                return false;
            }
            if (start == 0) {
                start = System.nanoTime();
            }
            long left = start + closeWaitNanos - System.nanoTime();
            boolean ended = false;
            synchronized (other) {
                long round = other.busyRound;
                while (!(ended = other.busySession != session || other.busyRound != round) && left > 0 && !interrupted) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(other, left);
                    } catch (InterruptedException e) {
                        interrupted = true; // an interrupt past shieldMaxMs: stop waiting, keep it for the caller
                    }
                    left = start + closeWaitNanos - System.nanoTime();
                }
            }
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (!ended) {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                record(Events.CLOSE_WAITED, Events.CONCURRENT, EventLog.WARN, true, self, site, null, op
                        + " gave up waiting after " + waitedMs + " ms (closeWaitMs) for another thread's call on the same session");
                return false;
            }
            record(Events.CLOSE_WAITED, Events.CONCURRENT, EventLog.WARN, true, self, site, null,
                    op + " waited " + waitedMs + " ms for another thread's commit, rollback, close or flush of the same session");
            // try again: the session is free now, unless a third thread took it first
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /**
     * flush(): marks the session busy for this thread without waiting (a close() or rollback() from another
     * thread waits for it). False when it was marked already (a flush inside this thread's commit) or is
     * busy on another thread. Normal path: one map insert.
     */
    public static boolean busy(Object session) {
        if (mode == MODE_OFF || session == null) {
            return false;
        }
        Shield s = SHIELD.get();
        if (BUSY.putIfAbsent(session, s) != null) {
            return false;
        }
        synchronized (s) {
            s.busySession = session;
        }
        return true;
    }

    /** Ends what {@link #acquire} or {@link #busy} began and wakes the threads waiting for it. */
    public static void notBusy(Object session) {
        Shield s = SHIELD.get();
        BUSY.remove(session, s);
        synchronized (s) {
            s.busySession = null;
            s.busyRound++;
            s.notifyAll();
        }
    }

    /** Sessions marked busy now (0 when idle): for tests and the report. */
    public static int busySessions() {
        return BUSY.size();
    }

    // ---------------------------------------------------------------- silent rollback

    /**
     * {@code Transaction.commit()} returned normally on a transaction that could not commit: it was marked
     * rollback-only when commit() began, or its connection was already gone. Hibernate told nobody. Logged at ERROR (commit.silentRollback). True
     * when the option {@code silentRollback=throw} asks the advice to turn it into an exception.
     */
    public static boolean silentRollback(Object self, String site, String why, String entities) {
        boolean raise = mode == MODE_PROTECT && silentRollbackThrows;
        record(Events.COMMIT_SILENT_ROLLBACK, isShuttingDown() ? Events.SHUTDOWN : Events.STATE, EventLog.ERROR, raise,
                self, site, null, "commit() returned normally but did not commit: " + why
                        + "; nothing of the transaction is in the database" + (entities == null ? "" : "; entities in the session: " + entities)
                        + (raise ? "; thrown to the caller (silentRollback=throw)" : ""));
        return raise;
    }

    /**
     * {@code Transaction.rollback()}: should the call be skipped because the transaction cannot be rolled
     * back in its current status? {@code status} is the library's status enum (its name is what counts).
     */
    public static boolean skipRollback(int flags, Object status, Object self, String site) {
        if ((flags & OUTER) == 0 || status == null) {
            return false;
        }
        String name = status.toString();
        if ("ACTIVE".equals(name) || "MARKED_ROLLBACK".equals(name) || "FAILED_COMMIT".equals(name)) {
            return false;
        }
        // ROLLED_BACK and NOT_ACTIVE are no-ops in native Hibernate (they throw only under JPA compliance):
        // counted, logged at INFO. The rest (COMMITTED, FAILED_ROLLBACK, COMMITTING, ROLLING_BACK, ...) throw.
        boolean harmless = "ROLLED_BACK".equals(name) || "NOT_ACTIVE".equals(name);
        return skip(Events.ROLLBACK_SKIPPED, harmless ? EventLog.INFO : EventLog.WARN,
                "transaction status " + name, self, site);
    }

    /** True when this call is the outermost guarded call on its thread: the one that decides. */
    public static boolean decides(int flags) {
        return (flags & OUTER) != 0;
    }

    /**
     * {@code Session.close()} after its factory was closed: counts close.released and says whether to
     * release (protect mode) or only count (observe mode).
     */
    public static boolean release(Object self, String site) {
        boolean protect = mode == MODE_PROTECT;
        record(Events.CLOSE_RELEASED, isShuttingDown() ? Events.SHUTDOWN : Events.CLOSED, EventLog.WARN, protect, self,
                site, null, "factory closed before the session: its connection is released and its transaction rolled back");
        return protect;
    }

    /** The release of {@link #release} failed: logged, never thrown (close() had returned normally). */
    public static void releaseFailed(Object self, String site, Throwable t) {
        record(Events.CLOSE_SWALLOWED, isShuttingDown() ? Events.SHUTDOWN : Events.CLOSED, EventLog.WARN, true, self,
                site, t, "releasing the connection of a session whose factory was closed failed");
    }

    /** {@code Session.close()} on a session that is already closed. */
    public static boolean skipClose(int flags, boolean alreadyClosed, Object self, String site) {
        if ((flags & OUTER) == 0 || !alreadyClosed) {
            return false;
        }
        return skip(Events.CLOSE_SKIPPED, EventLog.INFO, "already closed", self, site);
    }

    private static boolean skip(int kind, int level, String detail, Object self, String site) {
        boolean protect = mode == MODE_PROTECT;
        record(kind, Events.STATE, level, protect, self, site, null, detail);
        return protect;
    }

    /**
     * Last call of every exit advice. Returns the throwable the caller is to see: {@code thrown} itself,
     * or {@code null} when a rollback or close failure is swallowed. A commit failure is always returned.
     * {@code site} is "Class#method"; the method name says which policy applies.
     */
    public static Throwable exit(int flags, Object self, String site, Throwable thrown) {
        if (flags == 0) {
            return thrown;
        }
        Shield s = SHIELD.get();
        s.depth--;
        if ((flags & OUTER) == 0) {
            return thrown;
        }
        try {
            if (thrown == null) {
                if (s.commitFailure != null && operation(site) != OP_ROLLBACK) {
                    s.commitFailure = null; // a commit or a close went through: that unit of work is over
                }
                return null;
            }
            return decide(operation(site), flags, s, self, site, thrown);
        } finally {
            boolean deferred = false;
            if ((flags & REGISTERED) != 0) {
                SHIELDED_CALLS.remove(Thread.currentThread());
                synchronized (s) {
                    s.open = false;
                    deferred = s.pending;
                    s.pending = false;
                }
            }
            if ((flags & SHIELDED) != 0 || deferred) {
                // set again whatever happened in between: a driver that consumed it cannot lose it
                Thread.currentThread().interrupt();
            }
            if ((flags & SHIELDED) != 0) {
                record(Events.INTERRUPT_SHIELDED, Events.INTERRUPT, EventLog.INFO, true, self, site, null,
                        "interrupt flag cleared for the call and set again");
            }
        }
    }

    /** Threads inside a shielded call now (0 when idle): for tests and the report. */
    public static int shieldedCalls() {
        return SHIELDED_CALLS.size();
    }

    /** commit, rollback or close, from "Class#method"; anything else is treated as close (swallowable). */
    static int operation(String site) {
        if (site.endsWith("#commit")) {
            return OP_COMMIT;
        }
        return site.endsWith("#rollback") ? OP_ROLLBACK : OP_CLOSE;
    }

    private static Throwable decide(int op, int flags, Shield s, Object self, String site, Throwable thrown) {
        int reason = classify(flags, thrown);
        if (op == OP_COMMIT) {
            // never swallowed: the caller must learn that its work is not in the database
            s.commitFailure = thrown;
            record(Events.COMMIT_FAILED, reason < 0 ? Events.STATE : reason, EventLog.WARN, false, self, site,
                    thrown, "commit failed; the exception reaches the caller unchanged");
            return thrown;
        }
        Throwable first = s.commitFailure;
        if (first == thrown) {
            return thrown;
        }
        String detail = null;
        if (reason < 0 && op == OP_ROLLBACK && isNothingToRollBack(thrown)) {
            // Hibernate released the transaction's connection mid-transaction (its factory closed under a
            // statement); the pool rolled the work back, and rollback() ran on a connection with no transaction
            reason = Events.STATE;
            detail = "the connection had no transaction to roll back: it was released mid-transaction and the pool rolled the work back";
        }
        if (reason < 0) {
            if (first == null) {
                return thrown;
            }
            // the cleanup of a failed commit: the commit failure is what the caller must see, not this one
            reason = Events.STATE;
        }
        boolean protect = mode == MODE_PROTECT;
        int kind = op == OP_ROLLBACK ? Events.ROLLBACK_SWALLOWED : Events.CLOSE_SWALLOWED;
        record(kind, reason, EventLog.WARN, protect, self, site, thrown,
                first == null ? detail : "after the failed commit of this thread, which the caller sees; attached to it as suppressed");
        if (protect && first != null) {
            try {
                first.addSuppressed(thrown); // nothing lost: it travels with the exception the caller sees
            } catch (Throwable ignored) {
                // suppression disabled on that exception
            }
        }
        return protect ? null : thrown;
    }

    // ---------------------------------------------------------------- classification (exception in hand only)

    /** Why a failure of a rollback or close is safe to swallow, or -1 when it is not. */
    static int classify(int flags, Throwable thrown) {
        if (isShuttingDown()) {
            return Events.SHUTDOWN;
        }
        if ((flags & INTERRUPTED_AT_ENTRY) != 0 || Thread.currentThread().isInterrupted()
                || hasInterruptCause(thrown)) {
            return Events.INTERRUPT;
        }
        if (isClosedFailure(thrown)) {
            return Events.CLOSED;
        }
        return -1;
    }

    /** True while the JVM runs its shutdown hooks. Costs a probe only when an exception is in hand. */
    public static boolean isShuttingDown() {
        if (shutdownSeen) {
            return true;
        }
        try {
            Thread probe = new Thread(NOOP, "sessionguard-shutdown-probe");
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            shutdownSeen = true;
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    private static final Runnable NOOP = new Runnable() {
        @Override
        public void run() {
        }
    };

    static boolean hasInterruptCause(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof ClosedByInterruptException) {
                return true;
            }
            // SocketTimeoutException extends InterruptedIOException but is a timeout, not an interrupt
            if (t instanceof InterruptedIOException && !"java.net.SocketTimeoutException".equals(t.getClass().getName())) {
                return true;
            }
        }
        return false;
    }

    private static final String[] CLOSED_MESSAGES = {
        "is closed", "has been closed", "been closed", "already closed", "closed connection",
        "connection closed", "connection was closed", "connection is broken", "connection reset",
        "broken pipe", "an i/o error occurred", "terminating connection", "aborted",
    };

    /**
     * A rollback that failed because its connection was in no transaction (PostgreSQL: SQLState 25P01, "Cannot
     * rollback when autoCommit is enabled"): nothing was there to roll back, so nothing can be lost by swallowing it.
     */
    static boolean isNothingToRollBack(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            if ("25P01".equals(sqlState(t))) {
                return true;
            }
            String message = t.getMessage();
            if (message != null && message.toLowerCase(Locale.ROOT).contains("rollback when autocommit is enabled")) {
                return true;
            }
        }
        return false;
    }

    static boolean isClosedFailure(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            String state = sqlState(t);
            // class 08: connection exception; 57P01-03: the server terminated the backend
            if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
                return true;
            }
            String message = t.getMessage();
            if (message != null) {
                String m = message.toLowerCase(Locale.ROOT);
                for (String closed : CLOSED_MESSAGES) {
                    if (m.contains(closed)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** SQLException#getSQLState by reflection: java.sql is not visible from the bootstrap class loader. */
    private static String sqlState(Throwable t) {
        for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
            if ("java.sql.SQLException".equals(c.getName())) {
                try {
                    Method m = c.getMethod("getSQLState");
                    Object state = m.invoke(t);
                    return state instanceof String ? (String) state : null;
                } catch (Throwable e) {
                    return null;
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- counting and logging

    static void record(int kind, int reason, int level, boolean changed, Object self, String site,
                       Throwable cause, String detail) {
        COUNTS.incrementAndGet(kind * Events.REASONS.length + reason);
        EventLog log = EventLog.active;
        if (log != null) {
            log.event(kind, reason, level, changed, self, site, cause, detail);
        }
    }

    /** Count of one kind, all reasons. */
    public static long count(int kind) {
        long sum = 0;
        for (int r = 0; r < Events.REASONS.length; r++) {
            sum += COUNTS.get(kind * Events.REASONS.length + r);
        }
        return sum;
    }

    /** Count of one kind and reason. */
    public static long count(int kind, int reason) {
        return COUNTS.get(kind * Events.REASONS.length + reason);
    }

    /** How many entries the agent keeps (rate-limit sites): bounded by instrumented sites, not by traffic. */
    public static int stateSize() {
        EventLog log = EventLog.active;
        return log == null ? 0 : log.sites();
    }
}
