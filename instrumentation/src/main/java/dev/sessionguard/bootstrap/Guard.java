package dev.sessionguard.bootstrap;

import java.util.concurrent.TimeUnit;

/**
 * What the inlined advice calls: a small facade over the policy's parts ({@link CallState}, the
 * {@link InterruptShield}, {@link SessionBusy}, {@link Failures}, {@link Counters}). The whole package is
 * defined into the bootstrap class loader, so that every class loader that loads a target sees the same
 * single copy (docs/weaving.md, "The helper classes").
 *
 * <p>Rules for this package: no dependencies beyond java.base (java.sql is not visible from the
 * bootstrap loader on JDK 9+); on the normal path (nothing thrown, nobody interrupts, one thread per
 * session) no allocation and no lock: one thread-local lookup per guarded call, an atomic add and a
 * CAS on the thread's own state word per outermost call, a CAS into the session table for Hibernate
 * calls; nothing here may throw into the application: advice is {@code suppress = Throwable.class}, and every method below answers "do what
 * the library would have done" when in doubt. The exit advice calls {@link #exit} in a finally block, so
 * that the call always ends (interrupt set again, nesting undone) whatever an earlier step threw.
 */
public final class Guard {

    // ---------------------------------------------------------------- modes, operations, flags

    public static final int MODE_OFF = 0;
    public static final int MODE_OBSERVE = 1;
    public static final int MODE_PROTECT = 2;

    /** The operation of a guarded call, passed as a constant by the advice woven into that method. */
    public static final int CLOSE = 0;
    public static final int ROLLBACK = 1;
    public static final int COMMIT = 2;
    /** A method the agent cannot name: its failures are never swallowed. */
    public static final int OTHER = 3;

    /** The interrupt flag was set on entry and cleared for the call; it is set again on exit. */
    static final int SHIELDED = 1;
    /** The interrupt flag was set on entry (observe mode leaves it alone, but classification uses it). */
    static final int INTERRUPTED_AT_ENTRY = 2;
    /** The shield is open for this call ({@link CallState#word}): interrupts sent to the thread are held back. */
    static final int OPENED = 4;
    /** The outermost call entered in protect mode: it may change what the caller sees. */
    static final int PROTECT = 8;

    private Guard() {
    }

    private static final ThreadLocal<CallState> STATE = new ThreadLocal<CallState>() {
        @Override
        protected CallState initialValue() {
            CallState s = new CallState();
            InterruptShield.register(Thread.currentThread(), s);
            return s;
        }
    };

    static CallState state() {
        return STATE.get();
    }

    /** Called once by the agent when it has installed its transformer. */
    public static void configure(int newMode, boolean newShield, long newShieldMaxMs, long newCloseWaitMs,
                                 boolean newSilentRollbackThrows, boolean newHiddenCommitThrows, EventLog log) {
        Config.shield = newShield;
        Config.shieldMaxNanos = TimeUnit.MILLISECONDS.toNanos(newShieldMaxMs);
        Config.closeWaitNanos = TimeUnit.MILLISECONDS.toNanos(newCloseWaitMs);
        Config.silentRollbackThrows = newSilentRollbackThrows;
        Config.hiddenCommitThrows = newHiddenCommitThrows;
        EventLog.active = log;
        Failures.makeProbe(); // here, on premain's (or the attach's) thread
        // the deadline thread starts when the shield is armed (shieldArming(false)), on the agent's own thread:
        // a JVM that never loads a library class has none, and premain does not pay for it
        Config.mode = newMode;
    }

    public static int mode() {
        return Config.mode;
    }

    /**
     * Switches the mode of a running agent (JMX, detach). Safe at any moment: a call decides with the mode
     * it entered under (its flags), so a call in progress finishes as it began.
     */
    public static void setMode(int newMode) {
        Config.mode = newMode;
    }

    public static boolean shield() {
        return Config.shield;
    }

    // ---------------------------------------------------------------- every guarded call

    /**
     * First call of every enter advice. Returns this thread's state, which the exit advice hands to
     * {@link #exit}, or null when the agent is off (exit then does nothing). The outermost guarded call of the
     * thread opens the interrupt shield; a call inside it (pool proxy to driver, Hibernate to JDBC) only counts.
     */
    public static CallState enter() {
        int mode = Config.mode;
        if (mode == MODE_OFF) {
            return null;
        }
        CallState s = STATE.get();
        if (s.depth > 0) {
            s.depth++;
            return s;
        }
        int flags = 0;
        try {
            if (mode == MODE_PROTECT) {
                flags = PROTECT;
                if (Config.shield) {
                    flags |= OPENED;
                    if (InterruptShield.open(s)) {
                        flags |= SHIELDED | INTERRUPTED_AT_ENTRY;
                    }
                }
            }
            if ((flags & OPENED) == 0 && Thread.currentThread().isInterrupted()) {
                flags |= INTERRUPTED_AT_ENTRY;
            }
        } catch (Throwable t) {
            // the call runs unguarded, and leaves nothing behind: no depth, no open shield
            if ((flags & OPENED) != 0 && InterruptShield.close(s)) {
                Thread.currentThread().interrupt();
            }
            return null;
        }
        s.flags = flags;
        // nestedCommitFailure and the ended connections are cleared here: the outermost exit clears them
        s.depth = 1;
        return s;
    }

    /** True when {@code s} is this thread's outermost guarded call: the one that decides. */
    public static boolean decides(CallState s) {
        return s != null && s.depth == 1;
    }

    /**
     * Last call of every exit advice (in its finally block). Returns the throwable the caller is to see:
     * {@code thrown} itself, or {@code null} when a rollback or close failure is swallowed, or, for a close()
     * that ran a commit which failed and was hidden by the pool below, that failure when hiddenCommit=throw.
     * {@code unit} is the connection or session the call is for (a commit failure is remembered for it only).
     */
    public static Throwable exit(CallState s, int op, Object self, Object unit, String site, Throwable thrown) {
        // kept small enough for the JIT to inline into the woven method; everything else is in the methods below
        if (s == null) {
            return thrown;
        }
        if (s.depth > 1) {
            s.depth--;
            if (op == COMMIT || (thrown == null && op == ROLLBACK)) {
                nestedEnded(s, op, self, site, thrown);
            }
            return thrown;
        }
        s.depth = 0;
        int flags = s.flags;
        if (thrown == null && (flags & SHIELDED) == 0 && s.nestedCommitFailure == null && s.commitFailure == null) {
            // the normal path: nothing to decide, no interrupt to set again unless one was held back meanwhile
            if (s.endedCount != 0) {
                s.clearEnded();
            }
            if ((flags & OPENED) != 0 && InterruptShield.close(s)) {
                Thread.currentThread().interrupt();
            }
            return null;
        }
        return outermostEnded(s, flags, op, self, unit, site, thrown);
    }

    /** A guarded call inside the outermost one ended: a rollback that succeeded, or a commit. */
    private static void nestedEnded(CallState s, int op, Object self, String site, Throwable thrown) {
        if (thrown == null) {
            if (op == COMMIT && self == s.nestedCommitSelf) {
                // the same connection committed after its failed commit (a wrapper that retries): nothing is lost
                s.nestedCommitFailure = null;
                s.nestedCommitSelf = null;
            }
            s.ended(self);
        } else if (!s.hasEnded(self)) {
            // a commit below the call the application made (c3p0's close() committing through
            // setAutoCommit(true)). One after a commit or a rollback of the same connection (a pool resetting
            // it, Hibernate's release after its commit) commits nothing: its failure loses nothing
            s.nestedCommitFailure = thrown;
            s.nestedCommitSite = site;
            s.nestedCommitSelf = self;
        }
    }

    /** The outermost call ended with something to decide or to undo: {@link #exit}'s answer. */
    private static Throwable outermostEnded(CallState s, int flags, int op, Object self, Object unit, String site,
                                            Throwable thrown) {
        try {
            if (thrown == null && s.nestedCommitFailure == null && s.commitFailure == null) {
                return null; // nothing to decide
            }
            return Policy.decide(s, flags, op, self, unit, site, thrown);
        } finally {
            s.nestedCommitFailure = null;
            s.nestedCommitSelf = null;
            s.clearEnded();
            boolean held = (flags & OPENED) != 0 && InterruptShield.close(s);
            if ((flags & SHIELDED) != 0 || held) {
                // set again whatever happened in between: a driver that consumed it cannot lose it
                Thread.currentThread().interrupt();
            }
            if ((flags & SHIELDED) != 0) {
                Counters.record(Events.INTERRUPT_SHIELDED, Events.INTERRUPT, EventLog.INFO, true, self, site, null,
                        "interrupt flag cleared for the call and set again");
            }
        }
    }

    /** {@link #exit} for JDBC: the connection is the unit of work. */
    public static Throwable exit(CallState s, int op, Object self, String site, Throwable thrown) {
        return exit(s, op, self, self, site, thrown);
    }

    /** {@link #deferInterrupt}: the JDK's body of interrupt() runs as without the agent. */
    public static final int INTERRUPT_RUN = 0;
    /** {@link #deferInterrupt}: held back (the target is inside a shielded call); interrupt() returns. */
    public static final int INTERRUPT_HELD = 1;
    /**
     * {@link #deferInterrupt}: interrupt() runs its own body once more, invoked non-virtually, then calls
     * {@link #interruptDelivered} (also when that throws), and returns.
     */
    public static final int INTERRUPT_DELIVER = 2;

    /**
     * Called first by {@code Thread.interrupt()} (and {@code VirtualThread.interrupt()}), woven by the agent's
     * ThreadWeaver: what the method does, one of {@link #INTERRUPT_RUN}, {@link #INTERRUPT_HELD} (the target is
     * inside a shielded call: delivered when the call returns, or after shieldMaxMs at the latest) and
     * {@link #INTERRUPT_DELIVER} (outside a call, delivered now, counted as in delivery; docs/design.md).
     */
    public static int deferInterrupt(Thread target) {
        if (target == Thread.currentThread()) {
            return INTERRUPT_RUN;
        }
        // not the mode now: a call that opened its shield in protect mode keeps it until it returns, whatever the mode
        // became meanwhile (a call in progress finishes in the mode it began in); threads never shielded are not known
        return InterruptShield.deferInterrupt(target);
    }

    /** Called by {@code Thread.interrupt()} after {@link #INTERRUPT_DELIVER}: its own body has run or thrown. */
    public static void interruptDelivered() {
        InterruptShield.delivered();
    }

    /**
     * Called by the agent: true when it begins instrumenting the interrupt methods, false when it is done
     * (or gave up; then, with the shield on, in protect or observe mode, the deadline thread starts). Guarded calls that begin meanwhile wait
     * for it, at most shieldMaxMs.
     */
    public static void shieldArming(boolean arming) {
        InterruptShield.arming(arming);
    }

    // ---------------------------------------------------------------- one session, two threads

    /**
     * commit(), rollback() or close() of a session ({@code op}): when another thread is inside commit,
     * rollback, close or flush of the same session, waits, parked, until that call ends, at most closeWaitMs
     * (close.waited, commit.waited or rollback.waited, reason concurrent); then marks the session busy for
     * this thread, so that the next one waits for this call. Only a thread's outermost guarded call waits, and
     * never while it has a session marked itself: waits never nest and never form a cycle, and each is
     * bounded. True when this call marked the session (and must call {@link #unmarkBusy}).
     */
    public static boolean waitAndMarkBusy(CallState s, Object session, Object self, String site, int op) {
        if (!decides(s) || session == null || s.busySession != null) {
            return false;
        }
        CallState other = SessionBusy.claim(s, session);
        // the normal path ends here (one CAS); waiting is out of line, so that this stays small enough to inline
        return other == null || waitAndMark(s, other, session, self, site, op);
    }

    /** {@link #waitAndMarkBusy} when {@code other} holds the session. */
    private static boolean waitAndMark(CallState s, CallState other, Object session, Object self, String site, int op) {
        int kind = op == COMMIT ? Events.COMMIT_WAITED : op == ROLLBACK ? Events.ROLLBACK_WAITED : Events.CLOSE_WAITED;
        String call = Policy.name(op);
        if ((s.flags & PROTECT) == 0) {
            // observe mode: said, not waited for
            Counters.record(kind, Events.CONCURRENT, EventLog.WARN, false, self, site, null,
                    call + " while another thread is inside commit, rollback, close or flush of the same session");
            return false;
        }
        long start = System.nanoTime();
        while (true) {
            boolean ended = SessionBusy.await(other, session, start + Config.closeWaitNanos);
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (!ended) {
                Counters.record(kind, Events.CONCURRENT, EventLog.WARN, true, self, site, null, call
                        + " gave up waiting after " + waitedMs + " ms (closeWaitMs, or an interrupt) for another thread's call on the same session");
                return false;
            }
            Counters.record(kind, Events.CONCURRENT, EventLog.WARN, true, self, site, null,
                    call + " waited " + waitedMs + " ms for another thread's commit, rollback, close or flush of the same session");
            // try again: the session is free now, unless a third thread took it first
            other = SessionBusy.claim(s, session);
            if (other == null) {
                return true;
            }
        }
    }

    /**
     * flush(): marks the session busy for this thread without waiting (a close() or rollback() from another
     * thread waits for it). Returns this thread's state when it marked the session (the exit advice hands it to
     * {@link #unmarkBusy}), null when this thread has a session marked already (a flush inside its commit, of the
     * same session or of another one, such as Envers' audit session), another thread has it, or the agent is off.
     */
    public static CallState markFlushing(Object session) {
        if (Config.mode == MODE_OFF || session == null) {
            return null;
        }
        CallState s = STATE.get();
        if (s.busySession != null) {
            return null;
        }
        return SessionBusy.claim(s, session) == null ? s : null;
    }

    /**
     * Ends what {@link #waitAndMarkBusy} or {@link #markFlushing} began for {@code s}, the state that call was
     * given or returned, and wakes the threads waiting for it.
     */
    public static void unmarkBusy(CallState s, Object session) {
        SessionBusy.unmark(s, session);
    }

    private static final PrivateFields COORDINATOR_OWNER = new PrivateFields("transactionCoordinatorOwner");
    private static final PrivateFields SESSION_OWNER = new PrivateFields("owner");

    private static final PrivateFields TRANSACTION_CONTEXT = new PrivateFields("transactionContext");

    /**
     * The session that owns a Hibernate transaction coordinator, for versions whose transaction keeps no
     * session of its own: from 5.0 to 5.2 the coordinator's owner is the session's JdbcCoordinatorImpl, whose owner
     * is the session; in 4.x the coordinator's transactionContext is the session. Null when neither chain is there;
     * the advice then marks no session busy.
     */
    public static Object transactionOwner(Object coordinator) {
        Object jdbc = COORDINATOR_OWNER.read(coordinator);
        return jdbc != null ? SESSION_OWNER.read(jdbc) : TRANSACTION_CONTEXT.read(coordinator);
    }

    private static final PrivateFields SESSION_COORDINATOR = new PrivateFields("transactionCoordinator");

    /**
     * Releases the JDBC connection of a Hibernate 4.3 to 5.1 session whose factory was closed (the part of close()
     * that matters, see {@link #releaseOrphanedConnection}): its logical connection is closed, reached by name
     * (5.0/5.1: session.getJdbcCoordinator(); 4.x: the session's transactionCoordinator field's getJdbcCoordinator()), as
     * the advice cannot name those types. Runs at most once per session; a failure is logged, never thrown.
     */
    public static void releaseLogicalConnection(Object session, String site) {
        try {
            Object jdbc;
            try {
                jdbc = session.getClass().getMethod("getJdbcCoordinator").invoke(session);
            } catch (NoSuchMethodException older) {
                // 4.x: its getTransactionCoordinator() refuses once the factory is closed ("Session is closed!")
                Object coordinator = SESSION_COORDINATOR.read(session);
                jdbc = coordinator.getClass().getMethod("getJdbcCoordinator").invoke(coordinator);
            }
            Object logical = jdbc.getClass().getMethod("getLogicalConnection").invoke(jdbc);
            logical.getClass().getMethod("close").invoke(logical);
        } catch (java.lang.reflect.InvocationTargetException e) {
            releaseFailed(session, site, e.getCause());
        } catch (Throwable t) {
            releaseFailed(session, site, t);
        }
    }

    /**
     * Whether a Hibernate 5.0/5.1 transaction coordinator is Hibernate's own JDBC (resource-local) one, told by
     * its class, as the advice cannot name the coordinator type of those versions (it moved in 5.2). Anything
     * else (JTA, a coordinator of a framework's) is not: the commit checks that need JDBC are skipped.
     */
    public static boolean jdbcResourceLocal(Object coordinator) {
        return coordinator != null && "org.hibernate.resource.transaction.backend.jdbc.internal.JdbcResourceLocalTransactionCoordinatorImpl"
                .equals(coordinator.getClass().getName());
    }

    private static final PrivateFields SESSION_CLOSED = new PrivateFields("closed");

    /**
     * A Hibernate 5.0/5.1 session's own closed flag, private to its superclass, whose isClosed() is also true
     * once the factory is closed; false when the field is not there.
     */
    public static boolean sessionClosed(Object session) {
        return Boolean.TRUE.equals(SESSION_CLOSED.read(session));
    }

    private static final PrivateFields PERSISTENCE_CONTEXT = new PrivateFields("persistenceContext");

    /**
     * The names of the entities a Hibernate session holds, sorted ({@code [a.B, a.C]}): what the rollback of its
     * transaction loses; null when it holds none or they cannot be read. Read by reflection here, not in the
     * woven commit(), where it took 120 of the 414 bytes the advice added, for a path that runs only before a silent rollback
     * (docs/weaving.md, "Small woven methods"). 5.4 to 7.x: getPersistenceContextInternal(); before it the
     * {@code persistenceContext} field (getPersistenceContext() checks that the session is open, and it may not
     * be); then getEntitiesByKey() and EntityKey.getEntityName(), in every version from 5.0.
     */
    public static String entityNames(Object session) {
        try {
            Object context;
            try {
                context = call(session, "getPersistenceContextInternal");
            } catch (NoSuchMethodException older) {
                context = PERSISTENCE_CONTEXT.read(session);
            }
            java.util.TreeSet<String> names = new java.util.TreeSet<String>();
            for (Object key : ((java.util.Map<?, ?>) call(context, "getEntitiesByKey")).keySet()) {
                names.add(String.valueOf(call(key, "getEntityName")));
            }
            return names.isEmpty() ? null : names.toString();
        } catch (Throwable t) {
            return null; // the report then names no entities
        }
    }

    private static final String RELEASED = "the transaction's JDBC connection was released before commit (its session's"
            + " factory was closed during a statement), so its work was rolled back by the pool";
    /** Part of the work committed: {@link #silentRollback} does not add that nothing of it is in the database. */
    private static final String FLUSH_SKIPPED = "the session's factory was closed before commit, so Hibernate skipped the"
            + " flush: the inserts, updates and deletes still queued in the session were not written, and commit()"
            + " committed only what earlier statements wrote";
    private static final PrivateFields ACTION_QUEUE = new PrivateFields("actionQueue");
    private static final PrivateFields FLUSH_MODE = new PrivateFields("flushMode");

    /**
     * A JDBC transaction's commit() beginning after its session's factory was closed, as the advice sees it: the
     * reason its commit will not commit the transaction's work, or null. {@code connected}: the session still holds
     * its connection. Without it, Hibernate released the connection mid-transaction (the factory closed during a
     * statement) and the pool rolled the work back. With it, Hibernate skips the flush before the commit (a session
     * of a closed factory counts as closed: "Skipping auto-flush due to session closed", 4.3 to 7.x) and commits
     * what earlier statements wrote: the inserts, updates and deletes still queued in the session are lost, and
     * the rest committed (an order's header without its lines). Only queued work is seen here (changes to loaded
     * entities are found by the flush itself, which does not run); none under FlushMode.MANUAL, which never flushes
     * at commit. The session's state is read from its fields: its getters refuse a closed session.
     */
    public static String commitAfterFactoryClosed(Object session, boolean connected) {
        if (!connected) {
            return RELEASED;
        }
        try {
            Object mode = FLUSH_MODE.read(session); // 5.0/5.1's getFlushMode() refuses a closed session
            if (mode == null) {
                mode = call(session, "getHibernateFlushMode");
            }
            if ("MANUAL".equals(String.valueOf(mode))) {
                return null;
            }
            Object queue = ACTION_QUEUE.read(session);
            if (queue != null && Boolean.TRUE.equals(call(queue, "hasAnyQueuedActions"))) {
                return FLUSH_SKIPPED;
            }
        } catch (Throwable t) {
            // not read: nothing reported
        }
        return null;
    }

    /** A public method without parameters, called by reflection (made accessible where its class is not public). */
    private static Object call(Object target, String name) throws Exception {
        java.lang.reflect.Method m = target.getClass().getMethod(name);
        if (!java.lang.reflect.Modifier.isPublic(m.getDeclaringClass().getModifiers())) {
            m.setAccessible(true);
        }
        return m.invoke(target);
    }

    /** Sessions marked busy now (0 when idle): for tests and the report. */
    public static int busySessions() {
        return SessionBusy.marked();
    }

    // ---------------------------------------------------------------- Hibernate checks before the call

    /**
     * {@code Transaction.commit()} returned normally on a transaction that could not commit: it was marked
     * rollback-only when commit() began, or its connection was already gone. Hibernate told nobody. Logged at
     * ERROR (commit.silentRollback). When the option {@code silentRollback=throw} asks to turn it into an
     * exception, the message for the advice's {@code TransactionException}; otherwise null.
     */
    public static String silentRollback(Object self, String site, String why, String entities) {
        boolean raise = callProtects() && Config.silentRollbackThrows;
        Counters.record(Events.COMMIT_SILENT_ROLLBACK, Failures.isShuttingDown() ? Events.SHUTDOWN : Events.STATE,
                EventLog.ERROR, raise, self, site, null, "commit() returned normally but did not commit: " + why
                        // the skipped flush says itself what was committed (what earlier statements wrote)
                        + (why == FLUSH_SKIPPED ? "" : "; nothing of the transaction is in the database")
                        + (entities == null ? "" : "; entities in the session: " + entities)
                        + (raise ? "; thrown to the caller (silentRollback=throw)" : ""));
        return raise ? "commit() did not commit: " + why + " (reported by SessionGuard, silentRollback=throw)" : null;
    }

    /** Hibernate's JTA coordinator enters ({@code true}) or leaves its beforeCompletion(). */
    public static void jtaCompleting(boolean begins) {
        JtaMarks.completing(begins);
    }

    /**
     * Hibernate's {@code Transaction.markRollbackOnly()} on an active JTA transaction (of {@code coordinator}):
     * Hibernate marks it after a failed call on the session, outside the transaction's completion.
     */
    public static void jtaMarked(Object coordinator) {
        if (Config.mode != MODE_OFF) {
            JtaMarks.marked(coordinator);
        }
    }

    /**
     * Hibernate's JTA coordinator is told its transaction completed. Not committed after Hibernate marked it
     * rollback-only: the work is lost, and when the application caught the failure (the method returned
     * normally) a container-managed transaction is rolled back without the caller being told. Logged at ERROR
     * (commit.silentRollback); it cannot be thrown to anyone.
     */
    public static void jtaCompleted(Object coordinator, boolean successful, String site) {
        String where = JtaMarks.completed(coordinator);
        if (where != null && !successful && Config.mode != MODE_OFF) {
            Counters.record(Events.COMMIT_SILENT_ROLLBACK, Failures.isShuttingDown() ? Events.SHUTDOWN : Events.STATE,
                    EventLog.ERROR, false, coordinator, site, null, "the JTA transaction ended without committing: Hibernate had"
                            + " marked it rollback-only after a failed call at " + where + "; nothing of the transaction is in the"
                            + " database; if the application caught that failure, a container-managed transaction was rolled back"
                            + " and its caller was told nothing");
        }
    }

    /**
     * {@code Transaction.rollback()}: should the call be skipped because the transaction cannot be rolled
     * back in its current status? {@code status} is the library's status enum (its name is what counts).
     */
    public static boolean skipRollback(CallState s, Object status, Object self, String site) {
        if (!decides(s) || status == null) {
            return false;
        }
        String name = status.toString();
        if ("ACTIVE".equals(name) || "MARKED_ROLLBACK".equals(name) || "FAILED_COMMIT".equals(name)) {
            return false;
        }
        // ROLLED_BACK and NOT_ACTIVE are no-ops in native Hibernate (they throw only under JPA compliance):
        // counted, logged at INFO. The rest (COMMITTED, FAILED_ROLLBACK, COMMITTING, ROLLING_BACK, ...) throw.
        boolean harmless = "ROLLED_BACK".equals(name) || "NOT_ACTIVE".equals(name);
        return skip(Events.ROLLBACK_SKIPPED, harmless ? EventLog.INFO : EventLog.WARN, "transaction status " + name, self, site);
    }

    /**
     * {@code Session.close()} after its factory was closed: counts close.released and says whether to
     * release the session's connection (protect mode) or only count (observe mode).
     */
    public static boolean releaseOrphanedConnection(Object self, String site) {
        boolean protect = callProtects();
        Counters.record(Events.CLOSE_RELEASED, Failures.isShuttingDown() ? Events.SHUTDOWN : Events.CLOSED, EventLog.WARN,
                protect, self, site, null, "factory closed before the session: its connection is released and its transaction rolled back");
        return protect;
    }

    /** The release of {@link #releaseOrphanedConnection} failed: logged, never thrown (what close() itself threw, if anything, goes on). */
    public static void releaseFailed(Object self, String site, Throwable t) {
        Counters.record(Events.CLOSE_SWALLOWED, Failures.isShuttingDown() ? Events.SHUTDOWN : Events.CLOSED, EventLog.WARN,
                true, self, site, t, "releasing the connection of a session whose factory was closed failed");
    }

    /** {@code Session.close()} on a session that is already closed. */
    public static boolean skipClose(CallState s, boolean alreadyClosed, Object self, String site) {
        if (!decides(s) || !alreadyClosed) {
            return false;
        }
        return skip(Events.CLOSE_SKIPPED, EventLog.INFO, "already closed", self, site);
    }

    private static boolean skip(int kind, int level, String detail, Object self, String site) {
        boolean protect = callProtects();
        Counters.record(kind, Events.STATE, level, protect, self, site, null, detail);
        return protect;
    }

    /**
     * Does this thread's call protect? Asked by the steps of a call's advice, which run inside it (before its exit):
     * the mode the call began in, not the mode now (a switch by JMX, the CLI or detach while it runs changes
     * nothing of a call in progress). Outside a call, the mode now.
     */
    private static boolean callProtects() {
        CallState s = STATE.get();
        return s.depth > 0 ? (s.flags & PROTECT) != 0 : Config.protect();
    }

    // ---------------------------------------------------------------- for the agent, tests and the report

    /** True while the JVM runs its shutdown hooks. */
    public static boolean isShuttingDown() {
        return Failures.isShuttingDown();
    }

    /** Count of one kind, all reasons. */
    public static long count(int kind) {
        return Counters.count(kind);
    }

    /** Count of one kind and reason. */
    public static long count(int kind, int reason) {
        return Counters.count(kind, reason);
    }

    /** Threads inside a shielded call now (0 when idle): for tests and the report. */
    public static int shieldedCalls() {
        return InterruptShield.openCalls();
    }

    /** How many entries the agent keeps (rate-limit sites): bounded by instrumented sites, not by traffic. */
    public static int stateSize() {
        EventLog log = EventLog.active;
        return log == null ? 0 : log.sites();
    }
}
