package dev.sessionguard.tomcat;

import static dev.sessionguard.tomcat.JtaOrders.call;

import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * The WAR's Hibernate DAO (Tomcat; Hibernate in WEB-INF/lib: 5.6 with javax in Tomcat 9, 6.6 with jakarta in
 * Tomcat 10), on the JNDI pool: a session per request that begins a transaction, writes, commits in try, rolls
 * back in catch and closes in finally, as legacy DAOs do. Reached by reflection, so that these sources compile
 * without Hibernate for both namespaces and for WildFly (where the class is not deployed). The session factory is
 * built on first use and closed when the webapp stops ({@link OwnPool}).
 */
final class HibernateOrders {

    private static Object factory;

    private HibernateOrders() {
    }

    private static synchronized Object factory(DataSource ds) throws Exception {
        if (factory == null) {
            Object cfg = Class.forName("org.hibernate.cfg.Configuration", true, HibernateOrders.class.getClassLoader())
                    .getConstructor().newInstance();
            ((java.util.Properties) call(cfg, "getProperties")).put("hibernate.connection.datasource", ds);
            factory = call(cfg, "buildSessionFactory");
        }
        return factory;
    }

    static synchronized void close() throws Exception {
        if (factory != null) {
            call(factory, "close");
            factory = null;
        }
    }

    /**
     * {@code /do/hibdeadconn}: the backend of the session's connection ended by the server before
     * {@code Transaction.commit()}; answers {@code hib.commit}, {@code hib.cleanup} (what the rollback or close
     * threw), {@code hib.caller} and {@code hib.callerIsCommitFailure}.
     */
    static void deadConnection(DataSource ds, String table, StringBuilder out) throws Exception {
        String commit = "ok";
        String cleanup = "none";
        String caller = "none";
        try {
            Object session = call(factory(ds), "openSession");
            Object tx = null;
            try {
                tx = call(session, "beginTransaction");
                call(call(session, "createNativeQuery", "insert into " + table + " (id, item) values (-2, 'lost')"), "executeUpdate");
                Object backend = call(call(session, "createNativeQuery", "select pg_backend_pid()"), "getSingleResult");
                try (Connection admin = ds.getConnection(); Statement s = admin.createStatement()) {
                    s.execute("select pg_terminate_backend(" + backend + ")");
                }
                try {
                    call(tx, "commit");
                } catch (Exception e) {
                    commit = e.getClass().getName() + ": " + e.getMessage();
                    throw e;
                }
            } catch (Exception e) {
                if (tx != null) {
                    try {
                        call(tx, "rollback");
                    } catch (Exception r) {
                        cleanup = "rollback: " + r.getClass().getName() + ": " + r.getMessage();
                        throw r;
                    }
                }
                throw e;
            } finally {
                try {
                    call(session, "close");
                } catch (Exception r) {
                    cleanup = "close: " + r.getClass().getName() + ": " + r.getMessage();
                    throw r;
                }
            }
        } catch (Exception e) {
            caller = e.getClass().getName() + ": " + e.getMessage();
        }
        out.append("hib.commit=").append(commit.replace('\n', ' ')).append('\n');
        out.append("hib.cleanup=").append(cleanup.replace('\n', ' ')).append('\n');
        out.append("hib.caller=").append(caller.replace('\n', ' ')).append('\n');
        out.append("hib.callerIsCommitFailure=").append(caller.equals(commit)).append('\n');
    }
}
