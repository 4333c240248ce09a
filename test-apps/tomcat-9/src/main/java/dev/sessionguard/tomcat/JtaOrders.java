package dev.sessionguard.tomcat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.Statement;
import javax.naming.InitialContext;
import javax.sql.DataSource;

/**
 * A stateless session bean with container-managed JTA transactions, for the WildFly tests (#13): declared in
 * the WAR's WEB-INF/ejb-jar.xml (no annotations, so that this class compiles without the EJB, JTA and JPA APIs
 * and serves the javax and the jakarta server alike; Tomcat never loads it). Every method runs in a transaction
 * the container begins before it and commits after it returns ({@code Required}), and writes through JPA: the
 * server's own Hibernate, an EntityManager on the persistence unit {@code orders} (the IronJacamar datasource
 * {@code java:jboss/datasources/OrdersDS}), reached by reflection.
 */
public class JtaOrders {

    /** Inserts an order, then marks the transaction rollback-only; the container ends it with a rollback. */
    public String rollbackOnly(String table, long id) throws Exception {
        InitialContext ctx = new InitialContext();
        insert(ctx, table, id, "jta-rollback-only");
        call(ctx.lookup("java:comp/TransactionSynchronizationRegistry"), "setRollbackOnly");
        return "marked rollback-only";
    }

    /**
     * Inserts an order, then runs a statement that fails and catches its exception, as legacy code that
     * "logs and goes on" does: Hibernate marks the JTA transaction rollback-only, the method returns normally
     * and the container rolls back; the caller is told nothing.
     */
    public String caughtFailure(String table, long id) throws Exception {
        InitialContext ctx = new InitialContext();
        insert(ctx, table, id, "jta-caught");
        try {
            update(ctx, "insert into sg_no_such_table_13 (id) values (1)");
            return "no failure";
        } catch (Exception e) {
            return "caught " + e.getClass().getName();
        }
    }

    /**
     * Inserts an order, then has the server end the backend of the transaction's connection (through the
     * non-JTA datasource {@code java:jboss/datasources/AdminDS}): the container's commit after this method
     * returns fails.
     */
    public String deadConnection(String table, long id) throws Exception {
        InitialContext ctx = new InitialContext();
        insert(ctx, table, id, "jta-dead");
        Object em = ctx.lookup("java:comp/env/persistence/orders");
        Object pid = call(call(em, "createNativeQuery", "select pg_backend_pid()"), "getSingleResult");
        DataSource admin = (DataSource) ctx.lookup("java:jboss/datasources/AdminDS");
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            s.execute("select pg_terminate_backend(" + pid + ")");
        }
        return "backend " + pid + " ended";
    }

    /**
     * {@code /do/jta?case=rollbackonly|caughtfailure|deadconn|inflight}: the bean's method called through its
     * no-interface view (the container's transaction around it), then the order's rows counted on a new
     * connection. Answers {@code jta.<case>.caller} (what the call returned or threw) and {@code jta.<case>.rows}
     * (not for inflight, answered while the server stops).
     */
    static void serve(String which, DataSource ds, String table, StringBuilder out) throws Exception {
        JtaOrders bean = (JtaOrders) new InitialContext().lookup("java:module/JtaOrders!" + JtaOrders.class.getName());
        long id = java.util.concurrent.ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        String caller;
        try {
            String r;
            switch (String.valueOf(which)) {
                case "rollbackonly":
                    r = bean.rollbackOnly(table, id);
                    break;
                case "caughtfailure":
                    r = bean.caughtFailure(table, id);
                    break;
                case "deadconn":
                    r = bean.deadConnection(table, id);
                    break;
                case "inflight":
                    r = bean.inFlight(table, id);
                    break;
                default:
                    throw new IllegalArgumentException("case=" + which);
            }
            caller = "returned: " + r;
        } catch (Exception e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            caller = e.getClass().getName() + (root == e ? "" : " (cause " + root.getClass().getName() + ": " + root.getMessage() + ")");
        }
        out.append("jta.").append(which).append(".caller=").append(caller.replace('\n', ' ')).append('\n');
        if ("inflight".equals(which)) {
            // the server is stopping: no new connection asked of a datasource being stopped (it may be gone, or
            // hand out a connection its pool no longer tracks); the test counts the row after the stop
            return;
        }
        String rows;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("select count(*) from " + table + " where id = " + id)) {
            rs.next();
            rows = String.valueOf(rs.getLong(1));
        } catch (java.sql.SQLException | RuntimeException e) {
            rows = "not counted: " + e.getClass().getName();
        }
        out.append("jta.").append(which).append(".rows=").append(rows).append('\n');
    }

    /**
     * Inserts an order, then waits, its transaction open, for a row lock the test holds in PostgreSQL (on
     * {@code <table>_lock}) until the server has been told to shut down; then returns, and the container
     * commits during the shutdown.
     */
    public String inFlight(String table, long id) throws Exception {
        InitialContext ctx = new InitialContext();
        insert(ctx, table, id, "jta-in-flight");
        Object em = ctx.lookup("java:comp/env/persistence/orders");
        call(call(em, "createNativeQuery", "select id from " + table + "_lock where id = 1 for update"), "getResultList");
        return "lock granted";
    }

    private static void insert(InitialContext ctx, String table, long id, String item) throws Exception {
        update(ctx, "insert into " + table + " (id, item) values (" + id + ", '" + item + "')");
    }

    private static void update(InitialContext ctx, String sql) throws Exception {
        Object em = ctx.lookup("java:comp/env/persistence/orders");
        call(call(em, "createNativeQuery", sql), "executeUpdate");
    }

    /**
     * A public interface method of the object's class by name and argument count (the first argument a String
     * when there is one), else a public method of its class, invoked; its exception thrown as it is.
     */
    static Object call(Object target, String name, Object... args) throws Exception {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                for (Method m : i.getMethods()) {
                    if (m.getName().equals(name) && m.getParameterCount() == args.length
                            && (args.length == 0 || m.getParameterTypes()[0] == String.class)) {
                        return invoke(m, target, args);
                    }
                }
            }
        }
        for (Method m : target.getClass().getMethods()) { // a public class's own methods (Hibernate's Configuration)
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                return invoke(m, target, args);
            }
        }
        throw new NoSuchMethodException(name + " on " + target.getClass());
    }

    /** The method invoked; the exception it threw thrown as it is. */
    private static Object invoke(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable t = e.getCause();
            if (t instanceof Exception) {
                throw (Exception) t;
            }
            throw (Error) t;
        }
    }
}
