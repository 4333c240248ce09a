package dev.sessionguard.scenarios;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.hibernate.FlushMode;
import org.hibernate.Session;
import org.hibernate.Transaction;

/**
 * The few session calls whose names changed between the Hibernate versions the scenarios are built against
 * (4.3: Session is not AutoCloseable and its close() returns the connection, a transaction has getLocalStatus();
 * 5.0/5.1: createSQLQuery, setFlushMode, no Transaction.isActive(); 5.2 on: createNativeQuery,
 * setHibernateFlushMode, isActive()), looked up by name so that one source serves 4.3 to 7.x.
 */
final class Hib {

    private Hib() {
    }

    /** A native SQL query, of the version's own kind (NativeQuery or SQLQuery). */
    private static Object nativeQuery(Session s, String sql) {
        Method m = method(s.getClass(), "createNativeQuery", String.class);
        return call(m == null ? method(s.getClass(), "createSQLQuery", String.class) : m, s, sql);
    }

    /** The one value a native query returns (select count(*), select pg_backend_pid()). */
    static Object single(Session s, String sql) {
        Object q = nativeQuery(s, sql);
        return call(method(q.getClass(), "uniqueResult"), q);
    }

    /** A native update or statement. */
    static int update(Session s, String sql) {
        Object q = nativeQuery(s, sql);
        return (Integer) call(method(q.getClass(), "executeUpdate"), q);
    }

    /** Transaction.isActive() where the version has it, else whether its status can still be rolled back. */
    static boolean active(Transaction tx) {
        Method m = method(tx.getClass(), "isActive");
        if (m != null) {
            return (Boolean) call(m, tx);
        }
        return canRollback(tx);
    }

    /** The transaction's status by name: getStatus() (5.0 on) or getLocalStatus() (4.x). */
    static String status(Transaction tx) {
        Method m = method(tx.getClass(), "getStatus");
        return String.valueOf(call(m == null ? method(tx.getClass(), "getLocalStatus") : m, tx));
    }

    /** Whether rollback() may run: the status can be rolled back (5.0 on), or 4.x's ACTIVE or FAILED_COMMIT. */
    static boolean canRollback(Transaction tx) {
        Method m = method(tx.getClass(), "getStatus");
        if (m != null) {
            Object status = call(m, tx);
            return (Boolean) call(method(status.getClass(), "canRollback"), status);
        }
        String local = status(tx);
        return "ACTIVE".equals(local) || "FAILED_COMMIT".equals(local);
    }

    /** Session.close(), whichever its return type (void from 5.0 on, the Connection on 4.x). */
    static void close(Session s) {
        call(method(s.getClass(), "close"), s);
    }

    /** A session for try-with-resources, which 4.x's Session is not: closed as {@link #close} does. */
    static final class Open implements AutoCloseable {
        final Session session;

        Open(Session session) {
            this.session = session;
        }

        @Override
        public void close() {
            Hib.close(session);
        }
    }

    static Open open(org.hibernate.SessionFactory sf) {
        return new Open(sf.openSession());
    }

    /** FlushMode.MANUAL for the session. */
    static void manualFlush(Session s) {
        Method m = method(s.getClass(), "setHibernateFlushMode", FlushMode.class);
        call(m == null ? method(s.getClass(), "setFlushMode", FlushMode.class) : m, s, FlushMode.MANUAL);
    }

    private static Method method(Class<?> type, String name, Class<?>... parameters) {
        try {
            Method m = type.getMethod(name, parameters);
            m.setAccessible(true);
            return m;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Object call(Method m, Object target, Object... args) {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw Hib.<RuntimeException>sneaky(e.getCause()); // what Hibernate threw, as it threw it
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
