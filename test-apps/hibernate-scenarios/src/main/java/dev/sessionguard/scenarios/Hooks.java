package dev.sessionguard.scenarios;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import javax.sql.DataSource;

/**
 * A data source whose connections run the calling thread's hook just before commit(), rollback() or
 * prepareStatement() reaches the pool: how the scenarios stop a thread at an exact point inside Hibernate's
 * commit, rollback or flush.
 */
final class Hooks {

    /** Per thread: what the hooked connection does just before commit() or rollback() reaches the pool. */
    static final ThreadLocal<Runnable> BEFORE_COMMIT = new ThreadLocal<>();
    static final ThreadLocal<Runnable> BEFORE_ROLLBACK = new ThreadLocal<>();
    /** Per thread: what the hooked connection does just before prepareStatement() (a flush's first statement). */
    static final ThreadLocal<Runnable> BEFORE_STATEMENT = new ThreadLocal<>();

    private Hooks() {
    }

    /** The pool, behind a proxy whose connections run this thread's hooks before commit() and rollback(). */
    static DataSource hooked(DataSource pool) {
        return (DataSource) Proxy.newProxyInstance(Hooks.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, m, a) -> {
                    Object r = invoke(pool, m, a);
                    if (r instanceof Connection) {
                        return hook((Connection) r);
                    }
                    return r;
                });
    }

    private static Connection hook(Connection c) {
        return (Connection) Proxy.newProxyInstance(Hooks.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, m, a) -> {
                    if (m.getParameterCount() == 0) {
                        Runnable hook = m.getName().equals("commit") ? BEFORE_COMMIT.get()
                                : m.getName().equals("rollback") ? BEFORE_ROLLBACK.get() : null;
                        if (hook != null) {
                            hook.run();
                        }
                    } else if (m.getName().equals("prepareStatement") && BEFORE_STATEMENT.get() != null) {
                        Runnable hook = BEFORE_STATEMENT.get();
                        BEFORE_STATEMENT.remove(); // once: the first statement of the flush
                        hook.run();
                    }
                    if (m.getName().equals("unwrap") && a[0] == Connection.class) {
                        return c;
                    }
                    return invoke(c, m, a);
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method m, Object[] a) throws Throwable {
        try {
            return m.invoke(target, a);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
