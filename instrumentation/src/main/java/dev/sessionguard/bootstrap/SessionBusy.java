package dev.sessionguard.bootstrap;

import java.util.IdentityHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Which thread is inside commit, rollback, close or flush of a session, so that a second thread's call
 * on the same session waits for it (close.waited) instead of running beside it. A thread marks one
 * session at a time (the first it enters; a flush of another session inside it, as Hibernate Envers does
 * for its audit session, is not marked).
 *
 * <p>Uncontended, marking is one CAS into a fixed table slot chosen by the session's identity hash and
 * unmarking is one CAS back: nothing allocated, no lock. Two sessions that share a slot while both are
 * busy are rare; the second then goes to an overflow table under a lock. Why the two tables never let
 * two threads mark the same session: docs/design.md, "One session, two threads".
 */
final class SessionBusy {

    private static final int SLOTS_SIZE = 1024;
    private static final AtomicReferenceArray<CallState> SLOTS = new AtomicReferenceArray<CallState>(SLOTS_SIZE);

    private static final Object LOCK = new Object();
    /** Guarded by LOCK: sessions whose slot was taken by another session, to the thread marking them. */
    private static final IdentityHashMap<Object, CallState> OVERFLOW = new IdentityHashMap<Object, CallState>();
    /** Threads in or entering the overflow table: the fast path checks it after its CAS. */
    private static volatile int overflowUsers;

    private SessionBusy() {
    }

    private static int slot(Object session) {
        int h = System.identityHashCode(session);
        return (h ^ (h >>> 10)) & (SLOTS_SIZE - 1);
    }

    /** Marks {@code session} for {@code me}: null when marked, else the thread state that holds it. */
    static CallState claim(CallState me, Object session) {
        int i = slot(session);
        me.busySession = session;
        if (SLOTS.compareAndSet(i, null, me)) {
            if (overflowUsers == 0) {
                me.busySlot = i;
                return null;
            }
            // someone uses the overflow table: it may hold this session (claimed while the slot was taken)
            synchronized (LOCK) {
                CallState o = OVERFLOW.get(session);
                if (o == null) {
                    me.busySlot = i;
                    return null;
                }
                SLOTS.compareAndSet(i, me, null);
                me.busySession = null;
                wake(me);
                return o;
            }
        }
        CallState h = SLOTS.get(i);
        if (h != null && h != me && h.busySession == session) {
            me.busySession = null;
            return h;
        }
        synchronized (LOCK) {
            overflowUsers++; // before the slot is read again: a fast claim after this sees it and checks OVERFLOW
            h = SLOTS.get(i);
            if (h != null && h != me && h.busySession == session) {
                overflowUsers--;
                me.busySession = null;
                return h;
            }
            CallState o = OVERFLOW.get(session);
            if (o != null) {
                overflowUsers--;
                me.busySession = null;
                return o;
            }
            if (h == null && SLOTS.compareAndSet(i, null, me)) {
                overflowUsers--;
                me.busySlot = i;
                return null;
            }
            OVERFLOW.put(session, me);
            me.busySlot = -1; // overflowUsers stays counted until unmark
            return null;
        }
    }

    /** Ends what {@link #claim} began and wakes the threads waiting for it. */
    static void unmark(CallState me, Object session) {
        if (me.busySession != session) {
            return;
        }
        if (me.busySlot >= 0) {
            SLOTS.compareAndSet(me.busySlot, me, null);
            me.busySlot = -1;
        } else {
            synchronized (LOCK) {
                if (OVERFLOW.remove(session) != null) {
                    overflowUsers--;
                }
            }
        }
        me.busySession = null;
        me.busyRound++;
        wake(me);
    }

    private static void wake(CallState holder) {
        // a volatile read on the normal path; a waiter counts itself before it reads busySession/busyRound, so
        // either it sees this section's end or this sees it counted
        if (holder.waiting != 0) {
            for (Thread t : holder.waiters) {
                LockSupport.unpark(t);
            }
        }
    }

    /**
     * Waits, parked (a virtual thread does not pin its carrier), until {@code holder} is no longer inside its
     * busy section on {@code session}, at most until {@code deadline}. True when it ended; the interrupt
     * flag, if it is set meanwhile, is left set (an interrupt past shieldMaxMs stops the wait).
     */
    static boolean await(CallState holder, Object session, long deadline) {
        long round = holder.busyRound;
        Thread self = Thread.currentThread();
        CallState.WAITING.incrementAndGet(holder);
        holder.waiters.add(self);
        try {
            while (true) {
                if (holder.busySession != session || holder.busyRound != round) {
                    return true;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || self.isInterrupted()) {
                    return false;
                }
                LockSupport.parkNanos(SessionBusy.class, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        } finally {
            holder.waiters.remove(self);
            CallState.WAITING.decrementAndGet(holder);
        }
    }

    /** Sessions marked now (0 when idle): for tests, JMX and the report. */
    static int marked() {
        int n = 0;
        for (int i = 0; i < SLOTS_SIZE; i++) {
            if (SLOTS.get(i) != null) {
                n++;
            }
        }
        synchronized (LOCK) {
            return n + OVERFLOW.size();
        }
    }
}
