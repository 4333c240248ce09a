package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The decision at the end of an outermost call, driven through the facade the advice calls (enter, then
 * exit with what the method threw), on one thread.
 */
class PolicyTest {

    private final Object connectionA = new Object();
    private final Object connectionB = new Object();

    @AfterEach
    void off() {
        Guard.setMode(Guard.MODE_OFF);
        Thread.interrupted();
    }

    private static Throwable call(int op, Object unit, Throwable thrown) {
        CallState s = Guard.enter();
        return Guard.exit(s, op, unit, "Test#" + Policy.name(op), thrown);
    }

    @Test
    void aClosedConnectionsRollbackIsSwallowedAndACommitNever() {
        RecordingLog.protect(false);
        SQLException closed = new SQLException("Connection is closed", "08003");
        assertNull(call(Guard.ROLLBACK, connectionA, closed));
        assertNull(call(Guard.CLOSE, connectionA, closed));
        assertSame(closed, call(Guard.COMMIT, connectionA, closed));
    }

    @Test
    void anOperationTheAgentCannotNameIsNeverSwallowed() {
        RecordingLog.protect(false);
        SQLException closed = new SQLException("Connection is closed", "08003");
        assertSame(closed, call(Guard.OTHER, connectionA, closed));
    }

    /** Hole 4: the remembered commit failure belongs to its connection, not to the thread. */
    @Test
    void aCommitFailureCoversTheCleanupOfItsOwnConnectionOnly() {
        RecordingLog.protect(false);
        SQLException commitFailed = new SQLException("serialization failure", "40001");
        assertSame(commitFailed, call(Guard.COMMIT, connectionA, commitFailed));
        // an unrelated connection's rollback fails for a reason the agent does not swallow: the caller sees it
        SQLException otherFailure = new SQLException("deadlock detected", "40P01");
        assertSame(otherFailure, call(Guard.ROLLBACK, connectionB, otherFailure), "B's rollback failure reaches its caller");
        assertEquals(0, commitFailed.getSuppressed().length, "and is not hidden inside A's exception: " + Arrays.toString(commitFailed.getSuppressed()));
        // A's own cleanup: swallowed, attached to the commit failure the caller has
        SQLException cleanup = new SQLException("current transaction is aborted", "25P02");
        assertNull(call(Guard.ROLLBACK, connectionA, cleanup));
        assertSame(cleanup, commitFailed.getSuppressed()[0]);
        // A closed cleanly: its unit of work is over, a later failure of A is its own again
        assertNull(call(Guard.CLOSE, connectionA, null));
        SQLException later = new SQLException("deadlock detected", "40P01");
        assertSame(later, call(Guard.ROLLBACK, connectionA, later));
    }

    /**
     * Hole 5: a commit failure the thread remembers for its connection's cleanup does not keep the exception (its stack
     * reaches a webapp's classes) or the connection once the application dropped them, though that connection was
     * never closed on this thread (closed on another, or the agent switched off before its close). Before, a pool's
     * thread kept both for the JVM's life.
     */
    @Test
    void aRememberedCommitFailureDoesNotKeepTheExceptionOrTheConnection() {
        RecordingLog.protect(false);
        java.lang.ref.WeakReference<Throwable> failure = failCommitAndDrop();
        Guard.setMode(Guard.MODE_OFF); // its close() now runs unguarded: nothing forgets it
        Guard.exit(Guard.enter(), Guard.CLOSE, new Object(), "Test#close()", null);
        for (int i = 0; i < 40 && failure.get() != null; i++) {
            System.gc(); // bounded, not timed
        }
        assertNull(failure.get(), "the thread's state no longer holds the failed commit's exception");
    }

    private java.lang.ref.WeakReference<Throwable> failCommitAndDrop() {
        Object connection = new Object();
        SQLException commitFailed = new SQLException("serialization failure", "40001");
        assertSame(commitFailed, call(Guard.COMMIT, connection, commitFailed));
        // while the application holds both, the cleanup of that connection is judged as the cleanup of the failure
        SQLException cleanup = new SQLException("current transaction is aborted", "25P02");
        assertNull(call(Guard.ROLLBACK, connection, cleanup));
        assertSame(cleanup, commitFailed.getSuppressed()[0]);
        return new java.lang.ref.WeakReference<Throwable>(commitFailed);
    }

    /**
     * A commit whose unit is not known (a Hibernate 4.x to 5.2 transaction whose session could not be read) is not
     * remembered: an unrelated call without a unit is judged on its own. Before, its rollback failure was swallowed as
     * the cleanup of the other's failed commit.
     */
    @Test
    void aCommitFailureWithoutAUnitCoversNothing() {
        RecordingLog.protect(false);
        SQLException commitFailed = new SQLException("serialization failure", "40001");
        assertSame(commitFailed, Guard.exit(Guard.enter(), Guard.COMMIT, this, null, "Tx#commit()", commitFailed));
        SQLException otherFailure = new SQLException("deadlock detected", "40P01");
        assertSame(otherFailure, Guard.exit(Guard.enter(), Guard.ROLLBACK, new Object(), null, "OtherTx#rollback()", otherFailure));
        assertEquals(0, commitFailed.getSuppressed().length, Arrays.toString(commitFailed.getSuppressed()));
    }

    /** Hole 1: a commit run inside close() (c3p0 autoCommitOnClose, through setAutoCommit(true)) is a commit. */
    @Test
    void aFailedCommitInsideCloseIsNeverSwallowed() {
        RecordingLog log = RecordingLog.protect(false);
        SQLException commitFailed = new SQLException("An I/O error occurred while sending to the backend.", "08006");
        CallState outer = Guard.enter();
        CallState inner = Guard.enter();
        assertSame(commitFailed, Guard.exit(inner, Guard.COMMIT, connectionB, "Driver#commit", commitFailed));
        // the pool passes the commit's failure out of close(): it is a closed-connection failure, but a commit's
        assertSame(commitFailed, Guard.exit(outer, Guard.CLOSE, connectionA, "Pool#close", commitFailed));
        assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("WARN commit.failed") && l.contains("a commit run inside close() (Driver#commit) failed")),
                log.lines().toString());
        // close() throws something else: still not swallowed, the commit's failure goes with it
        outer = Guard.enter();
        inner = Guard.enter();
        Guard.exit(inner, Guard.COMMIT, connectionB, "Driver#commit", commitFailed);
        SQLException closeFailed = new SQLException("Connection is closed", "08003");
        assertSame(closeFailed, Guard.exit(outer, Guard.CLOSE, connectionA, "Pool#close", closeFailed));
        assertSame(commitFailed, closeFailed.getSuppressed()[0]);
    }

    /** Hole 1: c3p0 hides the failed commit and close() returns normally: ERROR, and hiddenCommit=throw throws it. */
    @Test
    void aCommitThePoolHidBelowCloseIsLoggedAtErrorOrThrown() {
        RecordingLog log = RecordingLog.protect(false);
        SQLException commitFailed = new SQLException("An I/O error occurred while sending to the backend.", "08006");
        CallState outer = Guard.enter();
        CallState inner = Guard.enter();
        Guard.exit(inner, Guard.COMMIT, connectionB, "Driver#commit", commitFailed);
        assertNull(Guard.exit(outer, Guard.CLOSE, connectionA, "Pool#close", null), "the caller sees what it saw without the agent");
        assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("ERROR commit.failed") && l.contains("at Pool#close")
                && l.contains("a commit run inside close() (Driver#commit) failed and close() returned normally")), log.lines().toString());

        RecordingLog.protect(true);
        outer = Guard.enter();
        inner = Guard.enter();
        Guard.exit(inner, Guard.COMMIT, connectionB, "Driver#commit", commitFailed);
        assertSame(commitFailed, Guard.exit(outer, Guard.CLOSE, connectionA, "Pool#close", null), "hiddenCommit=throw");
        // the next call starts clean
        assertNull(call(Guard.CLOSE, connectionA, null));
    }

    /**
     * A pool resetting a connection (Hikari, c3p0 without autoCommitOnClose, Hibernate's release): rollback,
     * then setAutoCommit(true), which commits an empty transaction. Its failure (the database closing under a
     * shutdown) loses nothing: the close() is judged as a close. So is a commit that fails inside a rollback().
     */
    @Test
    void aCommitOfNothingAfterARollbackIsNotALostCommit() {
        RecordingLog log = RecordingLog.protect(false);
        SQLException closed = new SQLException("Database is already closed", "90121");
        CallState outer = Guard.enter();
        Guard.exit(Guard.enter(), Guard.ROLLBACK, connectionB, "Driver#rollback", null);
        Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", closed);
        SQLException release = new SQLException("Unable to release JDBC Connection", new SQLException("x", "08003"));
        assertNull(Guard.exit(outer, Guard.CLOSE, connectionA, "Pool#close", release), "a closed-connection failure of a close: swallowed");
        outer = Guard.enter();
        Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", closed);
        assertNull(Guard.exit(outer, Guard.ROLLBACK, connectionA, "Transaction#rollback", release), "inside a rollback(): swallowed");
        assertTrue(log.lines().stream().noneMatch(l -> l.contains("commit.failed")), log.lines().toString());
    }

    /** A connection whose close() refused and that is still open (Derby: a transaction is active, 25001). */
    public static final class StillOpen {
        public boolean isClosed() {
            return false;
        }
    }

    /** A close() that did not close is never swallowed, interrupt or not: the connection would leak with its locks. */
    @Test
    void aCloseThatLeftTheConnectionOpenIsNeverSwallowed() {
        RecordingLog.protect(false);
        SQLException refused = new SQLException("Cannot close a connection while a transaction is still active.", "25001");
        StillOpen connection = new StillOpen();
        Thread.currentThread().interrupt();
        CallState s = Guard.enter();
        assertSame(refused, Guard.exit(s, Guard.CLOSE, connection, "Derby#close", refused));
        assertTrue(Thread.interrupted(), "the flag is kept");
        // the same failure from a connection that did close: swallowed under the interrupt
        Thread.currentThread().interrupt();
        s = Guard.enter();
        assertNull(Guard.exit(s, Guard.CLOSE, connectionA, "Driver#close", refused));
        Thread.interrupted();
    }

    /**
     * Hole 1, "a commit is a commit wherever it runs": a connection wrapper whose commit() swallows its driver's failed
     * commit and returns normally. The work is not in the database and the caller was told it is: a failed commit at
     * ERROR, thrown from commit() with hiddenCommit=throw. Before, nothing was said (only close() was checked).
     */
    @Test
    void aCommitThatSwallowsItsDriversFailedCommitIsReported() {
        RecordingLog log = RecordingLog.protect(false);
        SQLException driverFailed = new SQLException("could not serialize access", "40001");
        CallState outer = Guard.enter();
        assertSame(driverFailed, Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", driverFailed));
        assertNull(Guard.exit(outer, Guard.COMMIT, connectionA, "Wrapper#commit", null), "hiddenCommit=log: the caller's view is kept");
        assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("ERROR commit.failed")
                && l.contains("a commit run inside commit() (Driver#commit) failed and commit() returned normally")), log.lines().toString());

        RecordingLog.protect(true);
        CallState again = Guard.enter();
        Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", driverFailed);
        assertSame(driverFailed, Guard.exit(again, Guard.COMMIT, connectionA, "Wrapper#commit", null), "hiddenCommit=throw");
    }

    /**
     * Hibernate's commit() after the driver committed: afterCompletion resets the connection with setAutoCommit(true),
     * which H2 and pgjdbc run as a commit of their own; if that one fails (the database closing at shutdown), nothing
     * of the transaction is lost: it was committed. Through a pool's proxy too (the proxy's commit ends last).
     */
    @Test
    void aFailedCommitOfNothingAfterTheDriverCommittedIsNotAHiddenCommit() {
        RecordingLog log = RecordingLog.protect(true);
        SQLException closed = new SQLException("Database is already closed", "90121");
        Object proxy = new Object();
        CallState outer = Guard.enter();
        CallState viaProxy = Guard.enter();
        assertNull(Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", null));
        assertNull(Guard.exit(viaProxy, Guard.COMMIT, proxy, "Proxy#commit", null));
        assertSame(closed, Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", closed)); // setAutoCommit(true)
        assertNull(Guard.exit(outer, Guard.COMMIT, connectionA, "TransactionImpl#commit", null), "committed: nothing to throw");
        assertTrue(log.lines().stream().noneMatch(l -> l.contains("commit.failed")), log.lines().toString());
    }

    /**
     * DBCP2 returning a connection: passivate rolls back through the pool's wrapper (whose rollback ends last), then
     * setAutoCommit(true) commits on the driver's connection below it; that commit's failure loses nothing.
     */
    @Test
    void aFailedCommitOfNothingAfterAWrappersRollbackIsNotAHiddenCommit() {
        RecordingLog log = RecordingLog.protect(true);
        SQLException closed = new SQLException("Database is already closed", "90121");
        Object wrapper = new Object();
        CallState outer = Guard.enter();
        CallState viaWrapper = Guard.enter();
        assertNull(Guard.exit(Guard.enter(), Guard.ROLLBACK, connectionB, "Driver#rollback", null));
        assertNull(Guard.exit(viaWrapper, Guard.ROLLBACK, wrapper, "PoolableConnection#rollback", null));
        Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", closed);
        assertNull(Guard.exit(outer, Guard.CLOSE, connectionA, "PoolingDataSource#close", null));
        assertTrue(log.lines().stream().noneMatch(l -> l.contains("commit.failed")), log.lines().toString());
    }

    /** Another connection's failed commit after one connection committed is still a commit that failed. */
    @Test
    void aFailedCommitOfAnotherConnectionIsStillReported() {
        RecordingLog.protect(true);
        SQLException failed = new SQLException("could not serialize access", "40001");
        CallState outer = Guard.enter();
        assertNull(Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", null));
        Guard.exit(Guard.enter(), Guard.COMMIT, new Object(), "Driver#commit", failed);
        assertSame(failed, Guard.exit(outer, Guard.COMMIT, connectionA, "Wrapper#commit", null), "hiddenCommit=throw");
    }

    /** A wrapper that retries its driver's failed commit, and the retry commits: nothing lost, nothing reported. */
    @Test
    void aRetriedCommitThatSucceedsIsNotReported() {
        RecordingLog log = RecordingLog.protect(true);
        CallState outer = Guard.enter();
        Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", new SQLException("deadlock detected", "40P01"));
        assertNull(Guard.exit(Guard.enter(), Guard.COMMIT, connectionB, "Driver#commit", null));
        assertNull(Guard.exit(outer, Guard.COMMIT, connectionA, "Wrapper#commit", null));
        assertTrue(log.lines().stream().noneMatch(l -> l.contains("commit.failed")), log.lines().toString());
    }

    @Test
    void observeModeChangesNothing() {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_OBSERVE, true, 2000, 5000, false, true, log);
        SQLException closed = new SQLException("Connection is closed", "08003");
        assertSame(closed, call(Guard.ROLLBACK, connectionA, closed));
        assertTrue(log.lines().get(0).contains("(observe: not changed)"), log.lines().toString());
    }

    /**
     * A call finishes in the mode it began in: the steps of its advice that run before its exit (a silent rollback
     * thrown with silentRollback=throw; the connection of a session of a closed factory released) ask the call's
     * mode, not the mode a switch (JMX, the CLI, detach) set meanwhile.
     */
    @Test
    void theStepsOfACallKeepTheModeItBeganIn() {
        RecordingLog log = new RecordingLog();
        Guard.configure(Guard.MODE_OBSERVE, true, 2000, 5000, true, false, log);
        CallState observed = Guard.enter();
        Guard.setMode(Guard.MODE_PROTECT);
        assertNull(Guard.silentRollback(connectionA, "Test#commit", "the transaction was marked rollback-only", null),
                "begun in observe: not thrown, as without the agent");
        Guard.exit(observed, Guard.COMMIT, connectionA, "Test#commit", null);
        CallState protectedCall = Guard.enter();
        Guard.setMode(Guard.MODE_OBSERVE);
        assertTrue(Guard.releaseOrphanedConnection(connectionA, "Test#close"), "begun in protect: the connection is released");
        Guard.exit(protectedCall, Guard.CLOSE, connectionA, "Test#close", null);
        assertEquals(false, Guard.releaseOrphanedConnection(connectionA, "Test#close"), "outside a call: the mode now");
    }

    @Test
    void offDoesNothingAtAll() {
        Guard.setMode(Guard.MODE_OFF);
        assertNull(Guard.enter());
        SQLException closed = new SQLException("Connection is closed", "08003");
        assertSame(closed, Guard.exit(null, Guard.ROLLBACK, connectionA, "Test#rollback", closed));
    }
}
