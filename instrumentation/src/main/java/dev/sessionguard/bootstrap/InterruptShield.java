package dev.sessionguard.bootstrap;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The interrupt shield: an interrupt that reaches a thread inside a shielded commit, rollback or close is
 * held back until the call returns (at most shieldMaxMs), and one that was pending when the call began is
 * cleared for the call and set again after it. The state lives in each thread's {@link CallState#word};
 * the transitions are described there and in docs/design.md.
 */
final class InterruptShield {

    /**
     * Every thread that has made a guarded call, to its state: for interrupters, who have only the Thread.
     * Weak keys: dead threads (virtual threads included) are not kept. Registered once per thread, without a
     * lock: with a virtual thread per request that is once per request, and Thread.interrupt() reads it on every
     * interrupt of the JVM (a monitor here pinned carriers on JDK 21 to 23 and made every first call and every
     * interrupt wait for each other). Entries of collected threads are removed by the next registrations.
     */
    private static final ConcurrentHashMap<Object, CallState> THREADS = new ConcurrentHashMap<Object, CallState>();
    private static final ReferenceQueue<Thread> COLLECTED = new ReferenceQueue<Thread>();

    /** A key of {@link #THREADS}: a thread, equal to another key of the same thread while that thread is reachable. */
    private interface Key {
        Thread thread();
    }

    private static boolean sameThread(Key a, Object b) {
        Thread t = a.thread();
        return t != null && b instanceof Key && ((Key) b).thread() == t;
    }

    /** The key a thread is registered under: its weak reference (enqueued in {@link #COLLECTED} once it is cleared). */
    private static final class Registered extends WeakReference<Thread> implements Key {
        private final int hash;

        Registered(Thread t) {
            super(t, COLLECTED);
            hash = System.identityHashCode(t);
        }

        @Override
        public Thread thread() {
            return get();
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || sameThread(this, o); // a cleared key: equal to itself only, removed as such
        }
    }

    /** A thread looked up (by an interrupter): no weak reference made for each interrupt. */
    private static final class Lookup implements Key {
        private final Thread thread;

        Lookup(Thread t) {
            thread = t;
        }

        @Override
        public Thread thread() {
            return thread;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(thread);
        }

        @Override
        public boolean equals(Object o) {
            return sameThread(this, o);
        }
    }

    /** Made and started by the agent's thread ({@link #start}); null until then (package-private: tests). */
    static volatile ScheduledExecutorService deadlines;

    /** True while the agent instruments Thread.interrupt() (after the first library class was woven). */
    private static volatile boolean arming;
    private static final ConcurrentLinkedQueue<Thread> ARMING_WAITERS = new ConcurrentLinkedQueue<Thread>();

    private InterruptShield() {
    }

    static void register(Thread t, CallState s) {
        forgetCollected();
        THREADS.put(new Registered(t), s);
    }

    /** Removes the entries of threads that were collected (their keys, cleared, are equal to themselves only). */
    private static void forgetCollected() {
        Object gone;
        while ((gone = COLLECTED.poll()) != null) {
            THREADS.remove(gone);
        }
    }

    private static CallState stateOf(Thread t) {
        return THREADS.get(new Lookup(t));
    }

    /** Threads inside a shielded call now: for tests, JMX and the report. */
    static int openCalls() {
        int n = 0;
        for (CallState s : THREADS.values()) {
            if (CallState.isOpen(s.word)) {
                n++;
            }
        }
        return n;
    }

    /** Is {@code s} the registered state of some thread (collected threads' entries dropped first)? For tests. */
    static boolean registered(CallState s) {
        forgetCollected();
        return THREADS.containsValue(s);
    }

    /**
     * Opens the shield for this thread's outermost call. True when the thread's interrupt flag was set (it
     * is clear now, and must be set again when the call ends).
     */
    static boolean open(CallState s) {
        boolean interrupted = arming && awaitArmed();
        long w = s.word;
        if (!CallState.isOpen(w)) {
            // only this thread sets OPEN, and interrupters only count deliveries on a closed word, which an
            // addition keeps: one atomic add, no retry loop
            w = s.addWord(CallState.GENERATION_ONE | CallState.OPEN);
        } else {
            // left open by a call whose exit could not close it (an Error inside close): open it afresh; an
            // interrupt held back for that call is the caller's now (set again when this call ends)
            while (!s.casWord(w, CallState.opened(w))) {
                w = s.word;
            }
            interrupted |= CallState.isPending(w);
        }
        if (CallState.isDelivering(w)) {
            // another thread is inside interrupt() for this one, begun outside a call: the flag is being set
            // now. Wait until it is set, then clear it below, so the call never starts with it (at most
            // shieldMaxMs: an interrupter descheduled that long is not waited for)
            long deadline = System.nanoTime() + Config.shieldMaxNanos;
            while (CallState.isDelivering(s.word) && System.nanoTime() - deadline < 0) {
                Thread.yield();
            }
        }
        return Thread.interrupted() || interrupted;
    }

    /** Closes the shield; true when an interrupt was held back meanwhile (the caller sets the flag again). */
    static boolean close(CallState s) {
        while (true) {
            long w = s.word;
            if (s.casWord(w, CallState.closed(w))) {
                return CallState.isOpen(w) && CallState.isPending(w);
            }
        }
    }

    /**
     * Thread.interrupt() of {@code target}, called by another thread: {@link Guard#INTERRUPT_RUN} (the JDK's
     * body runs: the target is not known, or this is the delivery below re-entering), {@link Guard#INTERRUPT_HELD}
     * (held back: delivered when the target's call returns), or {@link Guard#INTERRUPT_DELIVER}: outside a call,
     * counted as in delivery, so that a call the target begins meanwhile waits for the flag and clears it for
     * the call instead of running with it. The woven method then runs its own body once more, non-virtually
     * (a subclass's interrupt() around it is not entered twice: JBoss Threads' spins on its own state), and
     * calls {@link #delivered} however that ends.
     */
    static int deferInterrupt(Thread target) {
        CallState s = stateOf(target);
        if (s == null) {
            return Guard.INTERRUPT_RUN; // never made a guarded call: nothing to shield
        }
        CallState me = Guard.state();
        if (me.deliveringTo != null) {
            return Guard.INTERRUPT_RUN; // the delivery, re-entering interrupt(): the JDK's body sets the flag
        }
        while (true) {
            long w = s.word;
            if (CallState.isOpen(w)) {
                if (CallState.isPending(w)) {
                    return Guard.INTERRUPT_HELD;
                }
                ScheduledExecutorService d = deadlines;
                if (d == null) {
                    // the agent's thread could not start the deadline thread (arming, below): without it an interrupt
                    // held back could wait forever, and one made here, on an application thread, would keep that
                    // thread's inheritable thread-locals. Not held back: as without the agent
                    return Guard.INTERRUPT_RUN;
                }
                long pending = w | CallState.PENDING;
                if (s.casWord(w, pending)) {
                    try {
                        scheduleDeadline(d, target, s, CallState.generation(w));
                    } catch (Throwable t) {
                        // not scheduled (executor refused, out of memory): undo, and let the JDK's body set the flag, once.
                        // If the word moved on, the call ended and saw PENDING: it sets the flag itself
                        return s.casWord(pending, w) ? Guard.INTERRUPT_RUN : Guard.INTERRUPT_HELD;
                    }
                    try {
                        Counters.record(Events.INTERRUPT_DEFERRED, Events.INTERRUPT, EventLog.INFO, true, null,
                                "java.lang.Thread#interrupt", null,
                                "interrupt of " + target.getName() + " held back until its call returns");
                    } catch (Throwable t) {
                        // held back and scheduled: a failed log line changes nothing of that
                    }
                    return Guard.INTERRUPT_HELD;
                }
                continue;
            }
            if (s.casWord(w, CallState.deliveringMore(w))) {
                me.deliveringTo = s;
                return Guard.INTERRUPT_DELIVER;
            }
        }
    }

    /** After {@link Guard#INTERRUPT_DELIVER}: the JDK's body has run (or thrown); the delivery is over. */
    static void delivered() {
        CallState me = Guard.state();
        CallState s = me.deliveringTo;
        me.deliveringTo = null;
        if (s == null) {
            return; // not after INTERRUPT_DELIVER
        }
        while (true) {
            long w = s.word;
            if (s.casWord(w, CallState.deliveringLess(w))) {
                return;
            }
        }
    }

    private static void scheduleDeadline(ScheduledExecutorService d, final Thread target, final CallState s, final long generation) {
        d.schedule(new Runnable() {
            @Override
            public void run() {
                while (true) {
                    long w = s.word;
                    if (!CallState.isOpen(w) || !CallState.isPending(w) || CallState.generation(w) != generation) {
                        return; // the call returned and delivered it itself
                    }
                    // the call took longer than shieldMaxMs: stop shielding it and deliver now
                    if (s.casWord(w, CallState.closed(w))) {
                        break;
                    }
                }
                try {
                    target.interrupt();
                } catch (Throwable t) {
                    // a security manager that refuses: the call goes on unshielded, as without the agent
                }
                try {
                    // said at WARN after the delivery (a slow log handler must not hold it, nor the other deadlines),
                    // not counted again (it was counted as interrupt.deferred): the interrupt reached a call that is
                    // still running, which on embedded H2 can close the database file
                    EventLog log = EventLog.active;
                    if (log != null) {
                        log.event(Events.INTERRUPT_DEFERRED, Events.INTERRUPT, EventLog.WARN, false, null,
                                "sessionguard-interrupt-deadline", null, "interrupt of " + target.getName()
                                        + " delivered now, its call still running after shieldMaxMs ("
                                        + TimeUnit.NANOSECONDS.toMillis(Config.shieldMaxNanos) + " ms)");
                    }
                } catch (Throwable t) {
                    // delivered; a failed line changes nothing of that
                }
            }
        }, Config.shieldMaxNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Starts the deadline thread now, from the agent's own thread (the one that arms the shield, after the first
     * library class was woven): a thread started later by the first interrupter would inherit that thread's
     * inheritable thread-locals and keep them (and a webapp's class loader) for the life of the JVM.
     */
    static void start() {
        synchronized (InterruptShield.class) {
            if (deadlines == null) {
                ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, new ThreadFactory() {
                    @Override
                    public Thread newThread(Runnable r) {
                        Thread t = new Thread(r, "sessionguard-interrupt-deadline");
                        t.setDaemon(true);
                        t.setContextClassLoader(null);
                        return t;
                    }
                });
                e.setRemoveOnCancelPolicy(true);
                // its thread now, on this (the agent's) thread: an executor whose thread an interrupter made later
                // would give that thread's inheritable thread-locals to it; without one, deferInterrupt holds nothing
                e.prestartCoreThread();
                deadlines = e;
            }
        }
    }

    // ---------------------------------------------------------------- arming

    /**
     * Called by the agent: true when it begins instrumenting the interrupt methods, false when it is done
     * (or gave up). Guarded calls that begin meanwhile wait for it, at most shieldMaxMs.
     */
    static void arming(boolean now) {
        if (!now && Config.shield) {
            // before a waiting call goes on: the first interrupt it holds back finds the thread started. In observe
            // mode too: after a switch to protect (JMX) the first interrupter would make it, and the thread would
            // keep that thread's inheritable thread-locals (a webapp's class loader) for the life of the JVM
            try {
                start();
            } catch (Throwable t) {
                // no thread now (out of native threads?): the first held-back interrupt makes it, or delivers at once
            }
        }
        arming = now;
        if (!now) {
            for (Thread t : ARMING_WAITERS) {
                LockSupport.unpark(t);
            }
        }
    }

    /** Waits until the interrupt methods are instrumented, at most shieldMaxMs, parked (no monitor). True when interrupted. */
    private static boolean awaitArmed() {
        Thread self = Thread.currentThread();
        ARMING_WAITERS.add(self); // first: if this fails (out of memory), the flag has not been cleared yet
        boolean interrupted = Thread.interrupted();
        try {
            long deadline = System.nanoTime() + Config.shieldMaxNanos;
            while (arming) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                LockSupport.parkNanos(InterruptShield.class, left);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            ARMING_WAITERS.remove(self);
        }
        return interrupted;
    }
}
