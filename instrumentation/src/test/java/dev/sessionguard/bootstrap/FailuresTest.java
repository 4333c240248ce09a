package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

/** Classification of the exception in hand: the pure part of the policy. */
class FailuresTest {

    @Test
    void closedConnectionsBySqlStateOrMessage() {
        assertTrue(Failures.isClosedFailure(new SQLException("x", "08003")));
        assertTrue(Failures.isClosedFailure(new SQLException("terminating", "57P01")));
        assertTrue(Failures.isClosedFailure(new SQLException("No operations allowed after connection closed.")));
        assertTrue(Failures.isClosedFailure(new RuntimeException("wrapped", new SQLException("Connection has already been closed."))));
        assertTrue(Failures.isClosedFailure(new SQLTransientConnectionException("HikariPool-1 - Connection is not available", "08001")));
        assertTrue(Failures.isClosedFailure(new SQLException("Connection is null.")), "DBCP's wrapper after close()");
        assertTrue(Failures.isClosedFailure(new SQLException("IJ031040: Connection is not associated with a managed connection: "
                + "org.jboss.jca.adapters.jdbc.jdk8.WrappedConnectionJDK8@7245916d")), "IronJacamar's handle after close()");
        assertFalse(Failures.isClosedFailure(new SQLException("deadlock detected", "40P01")));
        assertFalse(Failures.isClosedFailure(new SQLException((String) null)));
    }

    /**
     * The shutdown probe (a failure in hand: is the JVM shutting down?) makes no thread on the application's thread:
     * each one ran the application's inheritable thread-locals' childValue (and, on JDK 8, stayed counted in its
     * thread group). Before, every probe made one.
     */
    @Test
    void theShutdownProbeMakesNoThreadOnTheApplicationsThread() throws Exception {
        RecordingLog.protect(false); // the agent's configure: the probe is made there
        final java.util.concurrent.atomic.AtomicInteger copied = new java.util.concurrent.atomic.AtomicInteger();
        final InheritableThreadLocal<Object> mdc = new InheritableThreadLocal<Object>() {
            @Override
            protected Object childValue(Object parent) {
                copied.incrementAndGet();
                return parent;
            }
        };
        final boolean[] shuttingDown = new boolean[1];
        Thread request = new Thread(() -> {
            mdc.set("request-1");
            shuttingDown[0] = Failures.isShuttingDown() || Failures.isShuttingDown();
        });
        request.start();
        request.join();
        Guard.setMode(Guard.MODE_OFF);
        assertFalse(shuttingDown[0]);
        assertEquals(0, copied.get(), "no thread made on the application's thread");
    }

    @Test
    void interruptsButNotTimeouts() {
        assertTrue(Failures.hasInterruptCause(new SQLException("x", new InterruptedException())));
        assertTrue(Failures.hasInterruptCause(new SQLException("x", new ClosedByInterruptException())));
        assertTrue(Failures.hasInterruptCause(new SQLException("x", new InterruptedIOException())));
        assertFalse(Failures.hasInterruptCause(new SQLException("x", new SocketTimeoutException())));
        assertFalse(Failures.hasInterruptCause(new SQLException("x")));
    }

    @Test
    void nothingToRollBack() {
        assertTrue(Failures.isNothingToRollBack(new SQLException("Cannot rollback when autoCommit is enabled.", "25P01")));
        assertTrue(Failures.isNothingToRollBack(new SQLException("Cannot rollback when autoCommit is enabled.")));
        assertFalse(Failures.isNothingToRollBack(new SQLException("x", "08003")));
    }

    @Test
    void classifyOrder() {
        assertEquals(Events.INTERRUPT, Failures.classify(true, new SQLException("deadlock", "40P01")));
        assertEquals(Events.CLOSED, Failures.classify(false, new SQLException("x", "08006")));
        assertEquals(Failures.NONE, Failures.classify(false, new SQLException("deadlock", "40P01")));
    }

    @Test
    void causedByFollowsTheChain() {
        SQLException root = new SQLException("root");
        assertTrue(Failures.causedBy(root, root));
        assertTrue(Failures.causedBy(new RuntimeException(new RuntimeException(root)), root));
        assertFalse(Failures.causedBy(new RuntimeException("other"), root));
    }
}
