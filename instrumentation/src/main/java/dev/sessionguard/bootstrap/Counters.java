package dev.sessionguard.bootstrap;

import java.util.concurrent.atomic.AtomicLongArray;

/** Event counters (kind x reason) and the hand-over of each event to the log. */
final class Counters {

    private static final AtomicLongArray COUNTS = new AtomicLongArray(Events.KINDS.length * Events.REASONS.length);

    private Counters() {
    }

    static void record(int kind, int reason, int level, boolean changed, Object self, String site,
                       Throwable cause, String detail) {
        COUNTS.incrementAndGet(kind * Events.REASONS.length + reason);
        EventLog log = EventLog.active;
        if (log != null) {
            log.event(kind, reason, level, changed, self, site, cause, detail);
        }
    }

    static long count(int kind) {
        long sum = 0;
        for (int r = 0; r < Events.REASONS.length; r++) {
            sum += COUNTS.get(kind * Events.REASONS.length + r);
        }
        return sum;
    }

    static long count(int kind, int reason) {
        return COUNTS.get(kind * Events.REASONS.length + reason);
    }
}
