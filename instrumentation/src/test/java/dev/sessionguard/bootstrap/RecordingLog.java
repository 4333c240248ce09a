package dev.sessionguard.bootstrap;

import java.util.ArrayList;
import java.util.List;

/** An event log that keeps its lines, and can be made to fail the way a broken logger or a full stack does. */
final class RecordingLog extends EventLog {

    final List<String> lines = new ArrayList<String>();
    volatile Error failWith;

    RecordingLog() {
        super(DEBUG);
    }

    @Override
    protected void recorded() {
        Error e = failWith;
        if (e != null) {
            throw e;
        }
    }

    @Override
    protected synchronized void write(int level, String line, Throwable stack, Class<?> type) {
        lines.add((level == ERROR ? "ERROR " : level == WARN ? "WARN " : "INFO ") + line);
        notifyAll();
    }

    /** Waits until a line matches (written by another thread, the deadline thread say), at most {@code ms}. */
    synchronized boolean await(java.util.function.Predicate<String> match, long ms) throws InterruptedException {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(ms);
        while (lines.stream().noneMatch(match)) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return true;
    }

    synchronized List<String> lines() {
        return new ArrayList<String>(lines);
    }

    /**
     * Protect mode, shield on, this log; the shield armed (as the agent's thread does it). shieldMaxMs and closeWaitMs
     * one minute, not the agent's 2 s and 5 s: a test thread stalled that long on a loaded machine would otherwise see
     * the deadline deliver an interrupt, or a wait give up, that the test holds back on purpose (the deadline and the
     * bound have tests of their own, with their own short values).
     */
    static RecordingLog protect(boolean hiddenCommitThrows) {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_PROTECT, true, 60000, 60000, false, hiddenCommitThrows, log);
        Guard.shieldArming(false);
        return log;
    }
}
