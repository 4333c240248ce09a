package dev.sessionguard.bootstrap;

import java.util.concurrent.TimeUnit;

/** The agent's options as the policy reads them: set once by the agent, read on every call (volatile reads). */
final class Config {

    static volatile int mode = Guard.MODE_OFF;
    static volatile boolean shield = true;
    static volatile long shieldMaxNanos = TimeUnit.MILLISECONDS.toNanos(2000);
    static volatile long closeWaitNanos = TimeUnit.MILLISECONDS.toNanos(5000);
    static volatile boolean silentRollbackThrows;
    /** A commit run inside close() failed and the pool hid it: close() throws it (hiddenCommit=throw). */
    static volatile boolean hiddenCommitThrows;

    private Config() {
    }

    static boolean protect() {
        return mode == Guard.MODE_PROTECT;
    }
}
