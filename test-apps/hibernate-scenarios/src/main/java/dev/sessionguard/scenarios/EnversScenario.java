package dev.sessionguard.scenarios;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.hibernate.FlushMode;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.cfg.Configuration;

/**
 * Hibernate Envers under FlushMode.MANUAL (#12 hole 2): thread A commits an audited order; inside the commit,
 * Envers writes the audit rows through a temporary session of its own and flushes it (AuditProcess). While
 * A is still inside its commit (held after Envers' flush by a before-completion step of the scenario), thread B
 * closes A's session, as a request timeout or a shutdown does. With the agent B's close() must wait for A's
 * commit, parked, and then close: one close.waited. A hold ends as soon as B is seen waiting in the agent, or
 * has finished (without the agent), or after 30 s.
 * Prints {@code RESULT} lines: commit, close, how the hold ended, rows and audit rows.
 */
public final class EnversScenario {

    public static void main(String[] args) throws Exception {
        Db db = new Db("h2");
        db.createTable();
        HikariDataSource pool = db.pool(4);
        Map<String, String> result = new LinkedHashMap<>();
        SessionFactory sf = factory(db, pool);
        CountDownLatch inCommit = new CountDownLatch(1);
        AtomicReference<Thread> closer = new AtomicReference<>();
        AtomicReference<String> held = new AtomicReference<>("not held");
        AtomicReference<String> closeSaw = new AtomicReference<>("not run");
        Session s = sf.openSession();
        Hib.manualFlush(s);
        Transaction tx = s.beginTransaction();
        s.persist(new AuditedOrder(1));
        s.flush(); // the insert, and Envers' audit work queued for the commit
        // runs after Envers' own before-completion step (registered at the flush above)
        beforeCompletion(s, () -> {
            inCommit.countDown();
            held.set(hold(closer));
        });
        Thread b = new Thread(() -> {
            try {
                inCommit.await();
                s.close();
                closeSaw.set("ok");
            } catch (Throwable t) {
                closeSaw.set(Scenarios.describe(t));
            }
        }, "closer");
        closer.set(b);
        b.start();
        String commit = "ok";
        try {
            tx.commit();
        } catch (Throwable t) {
            commit = Scenarios.describe(t);
        }
        b.join();
        if (s.isOpen()) {
            s.close();
        }
        result.put("commit", commit);
        result.put("close", closeSaw.get());
        result.put("hold", held.get());
        result.put("rows", String.valueOf(db.rows()));
        result.put("auditRows", String.valueOf(count(db, db.table + "_AUD")));
        result.put("active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
        result.put("agentBusy", String.valueOf(Concurrency.agentBusySessions()));
        sf.close();
        pool.close();
        Scenarios.print(result);
        db.dropTable();
        System.exit(0);
    }

    /**
     * Registers a before-completion step on the session's action queue: registerProcess(BeforeTransactionCompletionProcess)
     * in 5.x and 6.x, registerCallback(BeforeCompletionCallback) in 7.x; the step is a proxy of whichever it takes.
     */
    private static void beforeCompletion(Session s, Runnable step) throws Exception {
        Object queue = ((org.hibernate.event.spi.EventSource) s).getActionQueue();
        for (java.lang.reflect.Method m : queue.getClass().getMethods()) {
            Class<?>[] p = m.getParameterTypes();
            if ((m.getName().equals("registerProcess") || m.getName().equals("registerCallback")) && p.length == 1
                    && p[0].isInterface() && p[0].getSimpleName().startsWith("Before")) {
                Object callback = java.lang.reflect.Proxy.newProxyInstance(p[0].getClassLoader(), new Class<?>[] {p[0]},
                        (proxy, method, args) -> {
                            if (method.getName().equals("doBeforeTransactionCompletion")) {
                                step.run();
                                return null;
                            }
                            return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                                    : method.getName().equals("equals") ? proxy == args[0] : "before-completion step";
                        });
                m.invoke(queue, callback);
                return;
            }
        }
        throw new IllegalStateException("no way to register a before-completion step on " + queue.getClass());
    }

    /** Holds A inside its commit until B waits in the agent, or has finished, or 30 s passed; says which. */
    private static String hold(AtomicReference<Thread> closer) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            Thread b = closer.get();
            if (b != null && !b.isAlive() && b.getState() == Thread.State.TERMINATED) {
                return "closer finished";
            }
            if (b != null && waitsInAgent(b)) {
                return "closer waiting in the agent";
            }
            Thread.yield();
        }
        return "30 s";
    }

    /**
     * Inside SessionBusy.await, the agent's wait for A's call (it parks until A's commit ends): told by one stack
     * snapshot. Not "waiting, and some agent frame on the stack": the state and the stack are two reads, and the
     * closer woken from inCommit.await() between them, passing through the agent on its way, looked like it (CI,
     * 12-08: the hold ended, the commit finished first, and the close never waited).
     */
    private static boolean waitsInAgent(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals("dev.sessionguard.bootstrap.SessionBusy") && e.getMethodName().equals("await")) {
                return true;
            }
        }
        return false;
    }

    private static SessionFactory factory(Db db, javax.sql.DataSource ds) {
        Configuration cfg = new Configuration();
        // no metadata-complete: Envers reads @Audited from the class
        String ormXml = "<entity-mappings xmlns=\"http://xmlns.jcp.org/xml/ns/persistence/orm\" version=\"" + Db.ORM_XSD + "\">"
                + "<entity class=\"" + AuditedOrder.class.getName() + "\" access=\"FIELD\">"
                + "<table name=\"" + db.table + "\"/><attributes><id name=\"id\"/><basic name=\"item\"/></attributes>"
                + "</entity></entity-mappings>";
        cfg.addInputStream(new java.io.ByteArrayInputStream(ormXml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Properties p = cfg.getProperties();
        p.put("hibernate.connection.datasource", ds);
        p.put("hibernate.hbm2ddl.auto", "update"); // Envers' REVINFO and <table>_AUD
        return cfg.buildSessionFactory();
    }

    private static long count(Db db, String table) {
        try (Connection c = db.direct(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }
}
