package dev.sessionguard.bootstrap;

import java.io.InterruptedIOException;
import java.lang.reflect.Method;
import java.nio.channels.ClosedByInterruptException;
import java.util.Locale;

/**
 * What a failure in hand says about itself: why a rollback or close failure is safe to swallow, or that
 * it is not. Pure functions of the exception (and, for shutdown, of the JVM); nothing here runs on the
 * normal path.
 */
final class Failures {

    /** Not a reason to swallow. */
    static final int NONE = -1;

    private static volatile boolean shutdownSeen;

    private Failures() {
    }

    /** Why a failure of a rollback or close is safe to swallow, or {@link #NONE}. */
    static int classify(boolean interruptedAtEntry, Throwable thrown) {
        if (isShuttingDown()) {
            return Events.SHUTDOWN;
        }
        if (interruptedAtEntry || Thread.currentThread().isInterrupted() || hasInterruptCause(thrown)) {
            return Events.INTERRUPT;
        }
        if (isClosedFailure(thrown)) {
            return Events.CLOSED;
        }
        return NONE;
    }

    /** True while the JVM runs its shutdown hooks. Costs a probe only when an exception is in hand. */
    static boolean isShuttingDown() {
        if (shutdownSeen) {
            return true;
        }
        try {
            Thread made = probe;
            Thread probe = made != null ? made : new Thread(NOOP, "sessionguard-shutdown-probe");
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            shutdownSeen = true;
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * The probe, made once by {@link Guard#configure} on the agent's thread (premain, attach) and used for every probe:
     * one made here, on an application thread, per failure, would run that thread's inheritable thread-locals'
     * childValue each time and, on JDK 8, count in its thread group as unstarted for good. Two threads probing at once:
     * the second one's add is refused as "previously registered" (not shutting down: during a shutdown the add fails
     * first with "Shutdown in progress").
     */
    static volatile Thread probe;

    static void makeProbe() {
        if (probe == null) {
            Thread t = new Thread(NOOP, "sessionguard-shutdown-probe");
            t.setContextClassLoader(null);
            probe = t;
        }
    }

    private static final Runnable NOOP = new Runnable() {
        @Override
        public void run() {
        }
    };

    static boolean hasInterruptCause(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof ClosedByInterruptException) {
                return true;
            }
            // SocketTimeoutException extends InterruptedIOException but is a timeout, not an interrupt
            if (t instanceof InterruptedIOException && !"java.net.SocketTimeoutException".equals(t.getClass().getName())) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code t} is {@code target} or has it in its cause chain. */
    static boolean causedBy(Throwable t, Throwable target) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            if (t == target) {
                return true;
            }
        }
        return false;
    }

    private static final String[] CLOSED_MESSAGES = {
        "is closed", "has been closed", "been closed", "already closed", "closed connection",
        "connection closed", "connection was closed", "connection is broken", "connection reset",
        "broken pipe", "an i/o error occurred", "terminating connection", "aborted",
        // DBCP (and Tomcat's DBCP): a pooled connection's wrapper after close() has no delegate any more
        "connection is null",
        // IronJacamar (WildFly, JBoss EAP): a WrappedConnection handle after close()
        "not associated with a managed connection",
    };

    /**
     * A rollback that failed because its connection was in no transaction (PostgreSQL: SQLState 25P01, "Cannot
     * rollback when autoCommit is enabled"): nothing was there to roll back, so nothing can be lost by swallowing it.
     */
    static boolean isNothingToRollBack(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            if ("25P01".equals(sqlState(t))) {
                return true;
            }
            String message = t.getMessage();
            if (message != null && message.toLowerCase(Locale.ROOT).contains("rollback when autocommit is enabled")) {
                return true;
            }
        }
        return false;
    }

    static boolean isClosedFailure(Throwable t) {
        for (int i = 0; t != null && i < 32; i++, t = t.getCause()) {
            String state = sqlState(t);
            // class 08: connection exception; 57P01-03: the server terminated the backend
            if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
                return true;
            }
            String message = t.getMessage();
            if (message != null) {
                String m = message.toLowerCase(Locale.ROOT);
                for (String closed : CLOSED_MESSAGES) {
                    if (m.contains(closed)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * After a failed close(): is the connection (or session) still open? Then the close did not happen (Derby
     * refuses to close a connection inside a transaction, SQLState 25001), and swallowing its failure would leave
     * the connection checked out with its transaction and locks: the caller must see it. Asked through the
     * object's own {@code isClosed()}, by reflection (java.sql is not visible here); false when it cannot tell.
     */
    static boolean stillOpen(Object self) {
        if (self == null) {
            return false;
        }
        try {
            // through a public interface that declares it (java.sql.Connection): no access check on the
            // implementation class, which may be package-private or in a module
            Method m = IS_CLOSED.get(self.getClass());
            return m != null && !((Boolean) m.invoke(self));
        } catch (Throwable t) {
            return false;
        }
    }

    /** The isClosed() of each class, looked up once (a close failure can come in storms); null when none. */
    private static final ClassValue<Method> IS_CLOSED = new ClassValue<Method>() {
        @Override
        protected Method computeValue(Class<?> type) {
            return isClosedOf(type);
        }
    };

    private static Method isClosedOf(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                Method m = isClosedOfInterface(i);
                if (m != null) {
                    return m;
                }
            }
        }
        try {
            Method m = type.getMethod("isClosed");
            return m.getReturnType() == boolean.class && java.lang.reflect.Modifier.isPublic(m.getDeclaringClass().getModifiers()) ? m : null;
        } catch (Throwable t) {
            return null;
        }
    }

    private static Method isClosedOfInterface(Class<?> i) {
        if (!java.lang.reflect.Modifier.isPublic(i.getModifiers())) {
            return null;
        }
        try {
            Method m = i.getMethod("isClosed");
            if (m.getReturnType() == boolean.class) {
                return m;
            }
        } catch (NoSuchMethodException e) {
            // not this one
        }
        for (Class<?> sup : i.getInterfaces()) {
            Method m = isClosedOfInterface(sup);
            if (m != null) {
                return m;
            }
        }
        return null;
    }

    /** SQLException#getSQLState by reflection: java.sql is not visible from the bootstrap class loader. */
    static String sqlState(Throwable t) {
        for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
            if ("java.sql.SQLException".equals(c.getName())) {
                try {
                    Method m = c.getMethod("getSQLState");
                    Object state = m.invoke(t);
                    return state instanceof String ? (String) state : null;
                } catch (Throwable e) {
                    return null;
                }
            }
        }
        return null;
    }
}
