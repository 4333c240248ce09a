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
    }

    synchronized List<String> lines() {
        return new ArrayList<String>(lines);
    }

    /** Protect mode, shield on, the defaults of the agent, this log; the shield armed (as the agent's thread does it). */
    static RecordingLog protect(boolean hiddenCommitThrows) {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_PROTECT, true, 2000, 5000, false, hiddenCommitThrows, log);
        Guard.shieldArming(false);
        return log;
    }
}
