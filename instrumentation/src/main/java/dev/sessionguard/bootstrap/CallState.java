package dev.sessionguard.bootstrap;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * Everything one thread's guarded calls need, created once per thread and reused for every call: the enter
 * advice gets it (one thread-local lookup) and hands it to the exit advice, which does no lookup of its own.
 *
 * <p>Fields marked "own thread" are read and written by this thread only. The interrupt shield is one
 * lock-free state word ({@link #word}), written by this thread and by threads that interrupt it:
 * <pre>
 *   bit 0      OPEN        this thread is inside a shielded call
 *   bit 1      PENDING     an interrupt sent to it meanwhile is held back
 *   bits 2-15  DELIVERING  interrupts being delivered to it right now (outside a call), counted
 *   bits 16-63 generation  of the shielded call, so that a deadline task acts on its own call only
 * </pre>
 * Transitions (docs/design.md, "The interrupt shield"): open (this thread, an atomic add; then it waits
 * while DELIVERING is not zero), hold back (interrupter: OPEN to OPEN|PENDING), deliver outside a call (interrupter: DELIVERING
 * +1 while the JDK sets the flag, then -1), close (this thread: clears OPEN and PENDING, re-interrupts
 * itself if PENDING was set), time out (deadline task: OPEN|PENDING of its generation to closed, then
 * delivers).
 */
public final class CallState {

    static final long OPEN = 1L;
    static final long PENDING = 2L;
    static final long DELIVERING_ONE = 4L;
    static final long DELIVERING_MASK = 0xFFFCL;
    static final long GENERATION_ONE = 1L << 16;
    static final long GENERATION_MASK = ~0xFFFFL;

    private static final AtomicLongFieldUpdater<CallState> WORD =
            AtomicLongFieldUpdater.newUpdater(CallState.class, "word");

    /** The interrupt shield's state word, above. */
    volatile long word;

    // ---- own thread
    /** Guarded calls in progress (pool proxy, then its driver; Hibernate, then JDBC): the first one decides. */
    int depth;
    /** Flags of the outermost call in progress ({@link Guard#SHIELDED} ...). */
    int flags;
    /**
     * The last commit failure of this thread and the connection or session it was for, until that unit ends; null
     * when none. Both held weakly: a pool's thread lives for the JVM, and a failure whose unit was closed on another
     * thread, or never, or after the agent was switched off, must not keep the exception (its stack reaches a
     * webapp's classes) or the connection alive (Policy).
     */
    java.lang.ref.WeakReference<Throwable> commitFailure;
    java.lang.ref.WeakReference<Object> commitFailureUnit;
    /** A commit that failed inside the outermost call, which was not itself a commit (a close() that commits). */
    Throwable nestedCommitFailure;
    String nestedCommitSite;
    /** The connection whose commit failed there: if it commits again and succeeds, nothing was lost. */
    Object nestedCommitSelf;
    /**
     * The connections (each layer's: a pool's proxy and its driver's) whose transaction a commit or a rollback inside
     * the outermost call ended: a commit of one of them after that commits nothing (a pool or Hibernate resetting it
     * with setAutoCommit(true)), and its failure loses nothing. The last four; {@link #endedCount} of them are set.
     * Cleared when the outermost call ends.
     */
    Object ended0;
    Object ended1;
    Object ended2;
    Object ended3;
    int endedCount;

    void ended(Object connection) {
        if (hasEnded(connection)) {
            return;
        }
        switch (endedCount++ & 3) {
            case 0: ended0 = connection; break;
            case 1: ended1 = connection; break;
            case 2: ended2 = connection; break;
            default: ended3 = connection; break;
        }
    }

    boolean hasEnded(Object connection) {
        return endedCount != 0 && (connection == ended0 || connection == ended1 || connection == ended2 || connection == ended3);
    }

    void clearEnded() {
        ended0 = null;
        ended1 = null;
        ended2 = null;
        ended3 = null;
        endedCount = 0;
    }
    /**
     * Own thread: the state of the thread this one is delivering an interrupt to through Thread.interrupt()
     * (InterruptShield), null when it is not delivering.
     */
    CallState deliveringTo;

    // ---- session busy marking (SessionBusy): written by this thread, read by threads waiting for it
    /** The session this thread is committing, rolling back, closing or flushing, else null. */
    volatile Object busySession;
    /** Incremented when a busy section ends: a waiter that saw it change knows the section it waited for is over. */
    volatile long busyRound;
    /** Own thread: the slot of {@link SessionBusy} this thread holds, or -1 for its overflow table. */
    int busySlot = -1;
    /** Threads waiting for this thread's busy section to end (parked, not in a monitor: virtual threads do not pin). */
    final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<Thread>();
    /** Threads in {@link SessionBusy#await} for this thread (in {@link #waiters} or about to be): 0 on the normal path. */
    volatile int waiting;

    static final AtomicIntegerFieldUpdater<CallState> WAITING =
            AtomicIntegerFieldUpdater.newUpdater(CallState.class, "waiting");

    CallState() {
    }

    boolean casWord(long expect, long update) {
        return WORD.compareAndSet(this, expect, update);
    }

    /** Adds {@code delta} to the state word; returns the word before. */
    long addWord(long delta) {
        return WORD.getAndAdd(this, delta);
    }

    // ---------------------------------------------------------------- the shield's transitions (pure, unit tested)

    static boolean isOpen(long w) {
        return (w & OPEN) != 0;
    }

    static boolean isPending(long w) {
        return (w & PENDING) != 0;
    }

    static boolean isDelivering(long w) {
        return (w & DELIVERING_MASK) != 0;
    }

    static long generation(long w) {
        return w >>> 16;
    }

    /** Opens a shielded call: a new generation, OPEN, no PENDING; deliveries in progress stay counted. */
    static long opened(long w) {
        return ((w & GENERATION_MASK) + GENERATION_ONE) | (w & DELIVERING_MASK) | OPEN;
    }

    /** Closes it: OPEN and PENDING cleared, generation and deliveries kept. */
    static long closed(long w) {
        return w & ~(OPEN | PENDING);
    }

    static long deliveringMore(long w) {
        return w + DELIVERING_ONE;
    }

    static long deliveringLess(long w) {
        return w - DELIVERING_ONE;
    }
}
