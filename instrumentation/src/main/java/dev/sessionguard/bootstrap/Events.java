package dev.sessionguard.bootstrap;

/** Event kinds and reasons of the contract (docs/design.md); the names are stable, the numbers are not. */
public final class Events {

    public static final int CLOSE_SKIPPED = 0;
    public static final int CLOSE_SWALLOWED = 1;
    public static final int CLOSE_WAITED = 2;
    public static final int CLOSE_RELEASED = 3;
    public static final int ROLLBACK_SKIPPED = 4;
    public static final int ROLLBACK_SWALLOWED = 5;
    public static final int COMMIT_FAILED = 6;
    public static final int COMMIT_SILENT_ROLLBACK = 7;
    public static final int INTERRUPT_SHIELDED = 8;
    public static final int INTERRUPT_DEFERRED = 9;
    /** A commit() of a session waited for another thread's call on it (close.waited is close()'s wait). */
    public static final int COMMIT_WAITED = 10;
    public static final int ROLLBACK_WAITED = 11;

    public static final String[] KINDS = {
        "close.skipped", "close.swallowed", "close.waited", "close.released",
        "rollback.skipped", "rollback.swallowed", "commit.failed", "commit.silentRollback",
        "interrupt.shielded", "interrupt.deferred", "commit.waited", "rollback.waited",
    };

    public static final int SHUTDOWN = 0;
    public static final int INTERRUPT = 1;
    public static final int CLOSED = 2;
    public static final int STATE = 3;
    public static final int CONCURRENT = 4;

    public static final String[] REASONS = {"shutdown", "interrupt", "closed", "state", "concurrent"};

    private Events() {
    }
}
