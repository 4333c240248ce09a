package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.instrumentation.hibernate.TransactionInstrumentation;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The interrupt shield through the facade, on real threads. Thread.interrupt() is not woven in this JVM:
 * an interrupter does what the woven method does (ThreadWeaver): the JDK's body unless Guard.deferInterrupt
 * holds the interrupt back, and around it, when it is a delivery, Guard.interruptDelivered.
 */
class InterruptShieldTest {

    @AfterEach
    void off() {
        Guard.setMode(Guard.MODE_OFF);
        Thread.interrupted();
    }

    /** What the woven Thread.interrupt() does (a failure inside the agent counts as "run", ThreadWeaver). */
    static void interrupt(Thread t) {
        int a;
        try {
            a = Guard.deferInterrupt(t);
        } catch (Throwable e) {
            a = Guard.INTERRUPT_RUN;
        }
        if (a == Guard.INTERRUPT_RUN) {
            t.interrupt();
        } else if (a == Guard.INTERRUPT_DELIVER) {
            try {
                t.interrupt();
            } finally {
                Guard.interruptDelivered();
            }
        }
    }

    @Test
    void aPendingInterruptIsClearedForTheCallAndSetAgain() {
        RecordingLog.protect(false);
        long before = Guard.count(Events.INTERRUPT_SHIELDED);
        Thread.currentThread().interrupt();
        CallState s = Guard.enter();
        assertFalse(Thread.currentThread().isInterrupted(), "the call runs without the flag");
        assertNull(Guard.exit(s, Guard.COMMIT, this, "Test#commit", null));
        assertTrue(Thread.interrupted(), "and has it again after");
        assertEquals(before + 1, Guard.count(Events.INTERRUPT_SHIELDED));
    }

    @Test
    void anInterruptDuringTheCallIsHeldBackUntilItReturns() throws Exception {
        RecordingLog.protect(false);
        assertEquals("false/true", interruptedInsideACall(InterruptShieldTest::interrupt), "not during the call, set after it");
    }

    /**
     * A call that began in protect mode finishes in it (README): a switch to observe or off (JMX, the CLI's mode, detach,
     * which switches to off first) while the call runs does not open its shield to an interrupt. The interrupter
     * asked the global mode, and the flag reached the call (on embedded H2: the database closed).
     */
    @Test
    void aModeSwitchDuringTheCallDoesNotOpenItsShield() throws Exception {
        RecordingLog.protect(false);
        try {
            assertEquals("false/true", interruptedInsideACall(t -> {
                Guard.setMode(Guard.MODE_OFF);
                interrupt(t);
            }), "held back until the call returned, then set");
            RecordingLog.protect(false);
            assertEquals("false/true", interruptedInsideACall(t -> {
                Guard.setMode(Guard.MODE_OBSERVE);
                interrupt(t);
            }), "in observe too");
        } finally {
            RecordingLog.protect(false);
        }
    }

    /** A worker inside a call while {@code interrupter} interrupts it: "flag during the call/flag after it". */
    private String interruptedInsideACall(java.util.function.Consumer<Thread> interrupter) throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch sent = new CountDownLatch(1);
        AtomicReference<String> seen = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            CallState s = Guard.enter();
            inside.countDown();
            await(sent);
            boolean during = Thread.interrupted(); // a driver that consumed it
            Guard.exit(s, Guard.COMMIT, this, "Test#commit", null);
            seen.set(during + "/" + Thread.currentThread().isInterrupted());
        });
        worker.start();
        inside.await();
        Thread sender = new Thread(() -> interrupter.accept(worker));
        sender.start();
        sender.join();
        sent.countDown();
        worker.join();
        return seen.get();
    }

    /**
     * Hole 5: with no deadline thread (the agent's thread could not start one), an interrupt is not held back, and no
     * deadline thread is made by the interrupter, which would keep its inheritable thread-locals (a webapp's class
     * loader) for the JVM's life. Before, the first interrupter made it.
     */
    @Test
    void withoutADeadlineThreadTheInterrupterMakesNoneAndTheInterruptIsNotHeld() throws Exception {
        RecordingLog.protect(false);
        java.util.concurrent.ScheduledExecutorService armed = InterruptShield.deadlines;
        InterruptShield.deadlines = null;
        try {
            assertEquals("true/false", interruptedInsideACall(InterruptShieldTest::interrupt), "as without the agent: during the call, once");
            assertNull(InterruptShield.deadlines, "no deadline thread made on the interrupter");
        } finally {
            InterruptShield.deadlines = armed;
        }
    }

    /**
     * A deadline that cannot be scheduled (the executor refuses, out of memory) leaves the interrupt not held back,
     * delivered once: before, the word stayed PENDING, the woven interrupt() ran the JDK's body as well (a failure
     * inside the agent counts as "run"), and the call's end set the flag a second time.
     */
    @Test
    void aDeadlineThatCannotBeScheduledDeliversTheInterruptOnce() throws Exception {
        RecordingLog.protect(false);
        java.util.concurrent.ScheduledExecutorService armed = InterruptShield.deadlines;
        java.util.concurrent.ScheduledThreadPoolExecutor refusing = new java.util.concurrent.ScheduledThreadPoolExecutor(1);
        refusing.shutdown();
        InterruptShield.deadlines = refusing;
        try {
            assertEquals("true/false", interruptedInsideACall(InterruptShieldTest::interrupt), "during the call, and not again after it");
        } finally {
            InterruptShield.deadlines = armed;
        }
    }

    /** The shield opens with one atomic add on a closed word; a word an earlier call left open is opened afresh. */
    @Test
    void aShieldLeftOpenByAnEarlierCallKeepsTheInterruptHeldBackForIt() throws Exception {
        RecordingLog.protect(false);
        CallState s = Guard.enter();
        s.depth = 0; // that call's exit never closed the shield (an Error inside it)
        Thread caller = Thread.currentThread();
        Thread interrupter = new Thread(() -> interrupt(caller));
        interrupter.start();
        interrupter.join();
        assertFalse(Thread.currentThread().isInterrupted(), "held back: the word is still open");
        CallState again = Guard.enter();
        assertTrue(CallState.isOpen(again.word), "the next call opens the shield again");
        assertFalse(Thread.currentThread().isInterrupted(), "and runs without the flag");
        Guard.exit(again, Guard.COMMIT, this, "Test#commit", null);
        assertFalse(CallState.isOpen(again.word), "closed after it");
        assertTrue(Thread.interrupted(), "the interrupt held back for the earlier call is delivered when this one ends");
    }

    @Test
    void anInterruptHeldBackTooLongIsDeliveredAtTheDeadline() throws Exception {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_PROTECT, true, 50, 5000, false, false, log);
        Guard.shieldArming(false);
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<String> seen = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            CallState s = Guard.enter();
            inside.countDown();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() < until) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(10)); // a call stuck in I/O: the deadline unparks it
            }
            boolean during = Thread.currentThread().isInterrupted();
            Guard.exit(s, Guard.COMMIT, this, "Test#commit", null);
            seen.set(during + "/" + Thread.currentThread().isInterrupted());
        });
        worker.start();
        inside.await();
        interrupt(worker);
        worker.join();
        assertEquals("true/true", seen.get(), "delivered during the call after shieldMaxMs, not lost after it");
        // said by the deadline thread after it delivered: waited for
        assertTrue(log.await(l -> l.startsWith("WARN interrupt.deferred") && l.contains("delivered now")
                && l.contains("after shieldMaxMs (50 ms)"), 30_000), "the late delivery is said at WARN: " + log.lines());
    }

    /**
     * Hole 3b: the interrupter decided "not inside a call" and the JDK is setting the flag when the target
     * begins a call. The call must not run with the flag set: it waits for the delivery and clears it.
     */
    @Test
    void anInterruptBeingDeliveredWhenACallBeginsIsClearedForTheCall() throws Exception {
        RecordingLog.protect(false);
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch inDelivery = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        CountDownLatch delivered = new CountDownLatch(1);
        AtomicReference<String> seen = new AtomicReference<>();
        final boolean[] entered = new boolean[1];
        Thread target = new Thread() {
            @Override
            public void interrupt() {
                // the JDK's body, held at the point where the flag is about to be set
                inDelivery.countDown();
                await(proceed);
                super.interrupt();
            }

            @Override
            public void run() {
                Guard.exit(Guard.enter(), Guard.CLOSE, this, "Test#close", null); // known to the shield
                ready.countDown();
                await(go);
                CallState s = Guard.enter();
                synchronized (entered) {
                    entered[0] = true;
                }
                await(delivered);
                boolean during = isInterrupted();
                Guard.exit(s, Guard.COMMIT, this, "Test#commit", null);
                seen.set(during + "/" + isInterrupted());
            }
        };
        target.start();
        ready.await();
        Thread interrupter = new Thread(() -> interrupt(target));
        interrupter.start();
        inDelivery.await();
        go.countDown();
        // the target is inside enter() (waiting for the delivery) or past it
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!isEntered(entered) && !inFrame(target, "InterruptShield", "open") && System.nanoTime() < until) {
            Thread.yield();
        }
        proceed.countDown();
        interrupter.join();
        delivered.countDown();
        target.join();
        assertEquals("false/true", seen.get(), "the call ran without the flag, and the interrupt was not lost");
    }

    /** Hole 3a: a step of the exit advice before Guard.exit throws (a full stack, a broken logger): the call still ends. */
    @Test
    void theExitAdviceEndsTheCallWhateverAStepThrows() {
        RecordingLog log = RecordingLog.protect(false);
        Thread.currentThread().interrupt();
        CallState s = Guard.enter();
        assertTrue(Guard.decides(s));
        log.failWith = new StackOverflowError("a step of the exit advice");
        try {
            // Hibernate's commit exit advice with a silent rollback to report: the report's event throws
            TransactionInstrumentation.CommitAdvice.exit(this, "TransactionImpl#commit", new Object(), s, false,
                    "the transaction was marked rollback-only", null, null);
        } catch (Throwable expected) {
            // the exit advice drops a failed step itself; anything else suppress = Throwable drops in the woven method
        } finally {
            log.failWith = null;
        }
        assertTrue(Thread.interrupted(), "the interrupt cleared at entry is set again");
        CallState next = Guard.enter();
        assertTrue(Guard.decides(next), "the next call is the outermost one again: the thread is still guarded");
        Guard.exit(next, Guard.CLOSE, this, "Test#close", null);
        assertFalse(CallState.isOpen(s.word), "the shield is closed");
    }

    private static boolean isEntered(boolean[] entered) {
        synchronized (entered) {
            return entered[0];
        }
    }

    static boolean inFrame(Thread t, String simpleClass, String method) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().endsWith("." + simpleClass) && e.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    static void await(CountDownLatch latch) {
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

    /**
     * A thread's first guarded call registers it for interrupters, and every interrupt looks its target up: with a
     * virtual thread per request that is every request, and every interrupt of the JVM. Neither waits for a lock
     * (a monitor here made them wait for each other, and pinned virtual threads' carriers on JDK 21 to 23): a new
     * thread's first call and an interrupt complete while the registry's object is locked by someone else.
     */
    @Test
    void aThreadsFirstCallAndAnInterruptTakeNoLock() throws Exception {
        RecordingLog.protect(false);
        java.lang.reflect.Field f = InterruptShield.class.getDeclaredField("THREADS");
        f.setAccessible(true);
        Object registry = f.get(null);
        CountDownLatch done = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            CallState s = Guard.enter();
            Guard.exit(s, Guard.COMMIT, this, "Driver#commit", null);
            interrupt(Thread.currentThread());
            Thread.interrupted();
            done.countDown();
        }, "first-call");
        synchronized (registry) {
            worker.start();
            assertTrue(done.await(30, TimeUnit.SECONDS), "the first call and the interrupt waited for the registry's lock");
        }
        worker.join();
    }

    /** A thread that made a guarded call and ended is forgotten once it is collected: nothing kept per thread. */
    @Test
    void aCollectedThreadIsForgotten() throws Exception {
        RecordingLog.protect(false);
        AtomicReference<CallState> state = new AtomicReference<>();
        Thread t = new Thread(() -> {
            CallState s = Guard.enter();
            state.set(s);
            Guard.exit(s, Guard.COMMIT, this, "Driver#commit", null);
        }, "short-lived");
        t.start();
        t.join();
        assertTrue(InterruptShield.registered(state.get()));
        java.lang.ref.WeakReference<Thread> gone = new java.lang.ref.WeakReference<>(t);
        t = null;
        boolean registered = true;
        for (int i = 0; i < 100 && (gone.get() != null || (registered = InterruptShield.registered(state.get()))); i++) {
            System.gc(); // the key is cleared, then enqueued by the reference handler: the collector's pace
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertNull(gone.get(), "the thread was collected");
        assertFalse(registered, "its entry was removed");
    }
}
