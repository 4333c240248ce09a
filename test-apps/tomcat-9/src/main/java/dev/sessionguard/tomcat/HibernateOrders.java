package dev.sessionguard.tomcat;

import static dev.sessionguard.tomcat.JtaOrders.call;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
            factory = build(ds);
        }
        return factory;
    }

    private static Object build(DataSource ds) throws Exception {
        Object cfg = Class.forName("org.hibernate.cfg.Configuration", true, HibernateOrders.class.getClassLoader())
                .getConstructor().newInstance();
        ((java.util.Properties) call(cfg, "getProperties")).put("hibernate.connection.datasource", ds);
        return call(cfg, "buildSessionFactory");
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

    /**
     * {@code /do/inflight?port=P&label=L[&own=true]}: a request whose session factory is closed while it is inside
     * its transaction. The DAO opens a session on the webapp's factory, begins, writes an order, waits for a remote
     * service (a socket to {@code 127.0.0.1:P} that the test answers: a newline for success, {@code x} for a
     * failure, which the DAO sees as an IOException), then commits in try, rolls back in catch, closes in finally
     * ({@code &catch=false}: a DAO of the other common shape, commit in try and close in finally, which leaves
     * the rollback to close()). Its keys start with {@code L.}.
     * <ul>
     *   <li>{@code own=true}: a factory of its own, closed by the request itself right before
     *       the remote call, in a running Tomcat: what a webapp's contextDestroyed or a framework context does to a
     *       request still inside its session; the DBCP pool stays open, so what the DAO leaves checked out is
     *       counted ({@code closed.checkedOut});</li>
     *   <li>otherwise (keys also printed on standard output, since the caller's socket is gone
     *       by then): the webapp's factory, while Tomcat stops: the context stops (its listener closes the factory,
     *       {@link OwnPool}), then the connector's executor is shut down with {@code shutdownNow()}, which
     *       interrupts the request thread; the request goes on when the test answers. Like many legacy services,
     *       the webapp registered a shutdown hook that waits for its work in flight (up to 60 s), so the JVM does
     *       not end under it. Run {@code own=true} first in the same deployment: it loads every class this path
     *       needs, since a stopped webapp class loader loads no new class.</li>
     * </ul>
     * Keys: {@code commit} (ok or what commit threw), {@code cleanup} (what rollback or close threw),
     * {@code caller}, {@code acknowledged}, {@code interruptedAtCommit}, {@code interruptKept}, {@code id} (the
     * order's id, for the test to look for it), {@code backend} (the state in pg_stat_activity of the session's
     * database backend after the DAO returned: "idle in transaction" or "idle" when the connection was left as it
     * was, "gone" when it was closed).
     */
    static void inFlight(DataSource ds, String table, int port, boolean own, boolean rollbackInCatch, String label, String pgUrl, String pgUser,
            StringBuilder out) throws Exception {
        String prefix = label + ".";
        CountDownLatch done = own ? new CountDownLatch(1) : heldAtShutdown();
        try {
            long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            Object f = own ? build(ds) : factory(ds);
            long activeBefore = own ? active(ds) : -1;
            String commit = "ok";
            String cleanup = "none";
            String caller = "none";
            Object backend = null;
            boolean atCommit = false;
            try {
                Object session = call(f, "openSession");
                Object tx = null;
                try {
                    tx = call(session, "beginTransaction");
                    call(call(session, "createNativeQuery", "insert into " + table + " (id, item) values (" + id + ", 'inflight')"), "executeUpdate");
                    backend = call(call(session, "createNativeQuery", "select pg_backend_pid()"), "getSingleResult");
                    if (own) {
                        call(f, "close"); // as another thread would while this request waits for the remote service
                    }
                    StuckOrders.remoteCall(port, label);
                    atCommit = Thread.currentThread().isInterrupted();
                    try {
                        call(tx, "commit");
                    } catch (Exception e) {
                        commit = e.getClass().getName() + ": " + e.getMessage();
                        throw e;
                    }
                } catch (Exception e) {
                    if (tx != null && rollbackInCatch) {
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
            boolean kept = Thread.interrupted(); // read and cleared: the checks below run without it
            StringBuilder r = new StringBuilder();
            r.append("commit=").append(commit.replace('\n', ' ')).append('\n');
            r.append("cleanup=").append(cleanup.replace('\n', ' ')).append('\n');
            r.append("caller=").append(caller.replace('\n', ' ')).append('\n');
            r.append("acknowledged=").append("ok".equals(commit) && "none".equals(caller)).append('\n');
            r.append("interruptedAtCommit=").append(atCommit).append('\n');
            r.append("interruptKept=").append(kept).append('\n');
            r.append("id=").append(id).append('\n');
            r.append("backend=").append(backendState(pgUrl, pgUser, backend)).append('\n');
            if (own) {
                r.append("checkedOut=").append(active(ds) - activeBefore).append('\n');
            }
            String lines = r.toString().replaceAll("(?m)^(?=.)", prefix);
            out.append(lines);
            if (!own) {
                System.out.print(lines.replaceAll("(?m)^(?=.)", "sg-inflight "));
                System.out.flush();
            }
        } finally {
            done.countDown();
        }
    }

    /**
     * Like many legacy services, the webapp's shutdown hook waits (up to 60 s) for its work in flight: the
     * returned latch, counted down when this request's work ends.
     */
    static CountDownLatch heldAtShutdown() {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                done.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "orders-wait-for-work-in-flight"));
        return done;
    }

    /** Connections the JNDI pool (Tomcat's DBCP) has handed out and not got back. */
    private static long active(DataSource ds) throws Exception {
        return ((Number) ds.getClass().getMethod("getNumActive").invoke(ds)).longValue();
    }

    /**
     * The state of a database backend, asked on a connection of its own made by the driver directly (in a
     * stopping webapp neither its JNDI pool nor DriverManager's check of the caller's class loader can be used).
     */
    private static String backendState(String url, String user, Object backend) {
        if (backend == null) {
            return "unknown";
        }
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", "");
        try (Connection c = new org.postgresql.Driver().connect(url, p);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select state from pg_stat_activity where pid = " + backend)) {
            return rs.next() ? rs.getString(1) : "gone";
        } catch (SQLException e) {
            return "not asked: " + e;
        }
    }
}
