package dev.sessionguard.bootstrap;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns events into log lines: one line per event, the first of each kind and site with its stack trace,
 * repeats at most one line per second per kind and site, each repeat line saying how many it stands for.
 * Where the line goes (the application's SLF4J, or java.util.logging) is the agent's business: it
 * subclasses this and implements {@link #write}.
 */
public abstract class EventLog {

    public static final int DEBUG = 0;
    public static final int INFO = 1;
    public static final int WARN = 2;
    public static final int ERROR = 3;
    public static final int OFF = 4;

    static volatile EventLog active;

    private static final long REPEAT_INTERVAL_NANOS = 1_000_000_000L;

    /** Events below this level are counted, not logged. */
    protected final int threshold;
    /** One entry per kind, reason and site: bounded by what is instrumented, never by traffic. */
    private final ConcurrentHashMap<String, Site> sites = new ConcurrentHashMap<String, Site>();

    protected EventLog(int threshold) {
        this.threshold = threshold;
    }

    private static final class Site {
        final AtomicLong unlogged = new AtomicLong();
        volatile long lastLogged;
    }

    final int sites() {
        return sites.size();
    }

    final void event(int kind, int reason, int level, boolean changed, Object self, String site,
                     Throwable cause, String detail) {
        recorded();
        if (level < threshold) {
            return;
        }
        String key = Events.KINDS[kind] + '|' + Events.REASONS[reason] + '|' + site;
        Site s = sites.get(key);
        boolean first = false;
        if (s == null) {
            Site created = new Site();
            s = sites.putIfAbsent(key, created);
            if (s == null) {
                s = created;
                first = true;
            }
        }
        long now = System.nanoTime();
        long repeats = 0;
        if (!first) {
            long last = s.lastLogged;
            if (now - last < REPEAT_INTERVAL_NANOS) {
                s.unlogged.incrementAndGet();
                return;
            }
            synchronized (s) {
                if (s.lastLogged != last) {
                    s.unlogged.incrementAndGet();
                    return;
                }
                s.lastLogged = now;
            }
            repeats = s.unlogged.getAndSet(0);
        } else {
            s.lastLogged = now;
        }
        StringBuilder line = new StringBuilder(200);
        line.append(Events.KINDS[kind]).append(" reason=").append(Events.REASONS[reason]);
        if (!changed && Guard.mode() == Guard.MODE_OBSERVE && kind != Events.COMMIT_FAILED) {
            line.append(" (observe: not changed)");
        }
        line.append(" at ").append(site);
        if (cause != null) {
            line.append(" exception=").append(cause.getClass().getName()).append(": ").append(cause.getMessage());
        }
        if (detail != null) {
            line.append(" (").append(detail).append(')');
        }
        line.append(" thread=").append(Thread.currentThread().getName());
        if (repeats > 0) {
            line.append(" [+").append(repeats).append(" more like it since the last line]");
        }
        Throwable stack = null;
        if (first) {
            stack = cause != null ? cause : new Throwable("stack of the first " + Events.KINDS[kind] + " at " + site);
        }
        try {
            write(level, line.toString(), stack, self == null ? null : self.getClass());
        } catch (Throwable ignored) {
            // logging must never break the host
        }
    }

    /** Called for every event, logged or not, after it was counted. */
    protected void recorded() {
    }

    /**
     * Writes one line; {@code type} is the instrumented object's class, whose class loader's SLF4J gets the
     * line (null: no object, the agent's own line).
     */
    protected abstract void write(int level, String line, Throwable stack, Class<?> type);
}
