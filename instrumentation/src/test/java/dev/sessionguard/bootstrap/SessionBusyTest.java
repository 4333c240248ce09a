package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One session, two threads: marking, waiting, and the table under many sessions and threads. */
class SessionBusyTest {

    @AfterEach
    void off() {
        Guard.setMode(Guard.MODE_OFF);
        assertEquals(0, Guard.busySessions(), "nothing left marked");
    }

    /**
     * Hole 2: inside this thread's commit of session 1, a flush of session 2 (Hibernate Envers' audit session
     * under FlushMode.MANUAL). Another thread's close of session 1 must wait for the commit, parked, once.
     */
    @Test
    void aFlushOfAnotherSessionInsideACommitLeavesTheFirstMarked() throws Exception {
        RecordingLog.protect(false);
        Object session1 = new Object();
        Object session2 = new Object();
        long waitedBefore = Guard.count(Events.CLOSE_WAITED);
        CallState a = Guard.enter();
        assertTrue(Guard.waitAndMarkBusy(a, session1, this, "Test#commit", Guard.COMMIT));
        CallState flushMarked = Guard.markFlushing(session2);
        if (flushMarked != null) {
            Guard.unmarkBusy(flushMarked, session2);
        }
        assertNull(flushMarked, "the audit session's flush is not marked: this thread has its commit's session marked");
        AtomicReference<String> closer = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread b = new Thread(() -> {
            CallState s = Guard.enter();
            started.countDown();
            boolean marked = Guard.waitAndMarkBusy(s, session1, this, "Test#close", Guard.CLOSE);
            if (marked) {
                Guard.unmarkBusy(s, session1);
            }
            Guard.exit(s, Guard.CLOSE, this, "Test#close", null);
            closer.set("marked=" + marked);
        });
        b.start();
        started.await();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // a bound for a stalled machine; ends when b parks
        while (!InterruptShieldTest.inFrame(b, "SessionBusy", "await") && System.nanoTime() < until) {
            Thread.yield();
        }
        assertTrue(InterruptShieldTest.inFrame(b, "SessionBusy", "await"), "the close waits for the commit, parked");
        assertEquals(waitedBefore, Guard.count(Events.CLOSE_WAITED), "and does not spin");
        Guard.unmarkBusy(a, session1);
        Guard.exit(a, Guard.COMMIT, this, "Test#commit", null);
        b.join();
        assertEquals("marked=true", closer.get());
        assertEquals(waitedBefore + 1, Guard.count(Events.CLOSE_WAITED), "one wait, one event");
    }

    @Test
    void theSameSessionInsideItsOwnCommitIsNotMarkedTwice() {
        RecordingLog.protect(false);
        Object session = new Object();
        CallState a = Guard.enter();
        assertTrue(Guard.waitAndMarkBusy(a, session, this, "Test#commit", Guard.COMMIT));
        assertNull(Guard.markFlushing(session));
        Guard.unmarkBusy(a, session);
        Guard.exit(a, Guard.COMMIT, this, "Test#commit", null);
    }

    @Test
    void aWaitIsBoundedByCloseWaitMs() throws Exception {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_PROTECT, true, 2000, 50, false, false, log);
        Object session = new Object();
        CallState a = Guard.enter();
        assertTrue(Guard.waitAndMarkBusy(a, session, this, "Test#commit", Guard.COMMIT));
        AtomicReference<String> closer = new AtomicReference<>();
        Thread b = new Thread(() -> {
            CallState s = Guard.enter();
            boolean marked = Guard.waitAndMarkBusy(s, session, this, "Test#close", Guard.CLOSE);
            Guard.exit(s, Guard.CLOSE, this, "Test#close", null);
            closer.set("marked=" + marked);
        });
        b.start();
        b.join();
        Guard.unmarkBusy(a, session);
        Guard.exit(a, Guard.COMMIT, this, "Test#commit", null);
        assertEquals("marked=false", closer.get());
        assertTrue(log.lines().stream().anyMatch(l -> l.contains("gave up waiting after")), log.lines().toString());
    }

    /** More sessions busy at once than the table has slots: the overflow table holds the rest, each found again. */
    @Test
    void manySessionsBusyAtOnceAreEachFoundByAnotherThread() {
        int n = 3000;
        List<Object> sessions = new ArrayList<>();
        List<CallState> holders = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Object session = new Object();
            CallState holder = new CallState();
            assertNull(SessionBusy.claim(holder, session));
            sessions.add(session);
            holders.add(holder);
        }
        assertEquals(n, SessionBusy.marked());
        CallState other = new CallState();
        for (int i = 0; i < n; i++) {
            assertSame(holders.get(i), SessionBusy.claim(other, sessions.get(i)), "session " + i + " is held");
            assertNull(other.busySession);
        }
        for (int i = 0; i < n; i++) {
            SessionBusy.unmark(holders.get(i), sessions.get(i));
        }
        assertEquals(0, SessionBusy.marked());
    }

    /** Never two holders of one session, whatever the interleaving (slots shared by sessions included). */
    @Test
    void neverTwoHoldersUnderARace() throws Exception {
        int threads = 4;
        int sessionsCount = 4000;
        Object[] sessions = new Object[sessionsCount];
        for (int i = 0; i < sessionsCount; i++) {
            sessions[i] = new Object();
        }
        ConcurrentHashMap<Object, CallState> holding = new ConcurrentHashMap<>();
        AtomicBoolean broken = new AtomicBoolean();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final long seed = 42 + t;
            Thread th = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                CallState[] mine = {new CallState(), new CallState(), new CallState()};
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < 200_000 && !broken.get(); i++) {
                    CallState me = mine[random.nextInt(mine.length)];
                    // a few hot sessions, so that threads really meet on one
                    Object session = sessions[random.nextInt(4) == 0 ? random.nextInt(8) : random.nextInt(sessionsCount)];
                    if (SessionBusy.claim(me, session) == null) {
                        if (holding.putIfAbsent(session, me) != null) {
                            broken.set(true);
                        }
                        holding.remove(session, me);
                        SessionBusy.unmark(me, session);
                    }
                }
            });
            all.add(th);
            th.start();
        }
        for (Thread th : all) {
            th.join();
        }
        assertFalse(broken.get(), "two threads held the same session at once");
        assertEquals(0, SessionBusy.marked());
    }
}
