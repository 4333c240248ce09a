package dev.sessionguard.tomcat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code /do/poolinflight?port=P&label=L[&own=true]} (Tomcat only): the webapp's own HikariCP pool closed under a
 * request inside its transaction. A plain JDBC DAO takes a connection, writes an order, waits for a remote
 * service (the socket of {@link StuckOrders#remoteCall}, answered by the test), then commits in try, rolls back
 * in catch, closes in finally. HikariCP's close() aborts the connections in use, so the commit fails and the
 * rollback in catch fails too.
 * <ul>
 *   <li>{@code own=true}: a pool of its own, closed by the request itself before the remote call, in a running
 *       Tomcat (and every class of this path loaded in the current deployment);</li>
 *   <li>otherwise: the webapp's pool ({@link OwnPool}), closed by the webapp's stop while Tomcat stops; the
 *       keys are printed on standard output too, and the shutdown hook of {@link HibernateOrders#heldAtShutdown}
 *       waits for the request.</li>
 * </ul>
 * Keys, after {@code L.}: {@code commit}, {@code cleanup}, {@code caller}, {@code callerIsCommitFailure},
 * {@code interruptKept}, {@code id}.
 */
final class PoolOrders {

    private PoolOrders() {
    }

    static void inFlight(String table, int port, boolean own, String label, String pgUrl, String pgUser, StringBuilder out) throws Exception {
        CountDownLatch done = own ? new CountDownLatch(1) : HibernateOrders.heldAtShutdown();
        try {
            HikariDataSource pool;
            if (own) {
                HikariConfig c = new HikariConfig();
                c.setJdbcUrl(pgUrl);
                c.setUsername(pgUser);
                c.setPassword("");
                c.setMaximumPoolSize(1);
                c.setPoolName("request-own-pool");
                pool = new HikariDataSource(c);
            } else {
                pool = OwnPool.pool;
            }
            long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            String commit = "ok";
            String cleanup = "none";
            String caller = "none";
            try {
                Connection c = pool.getConnection();
                try {
                    c.setAutoCommit(false);
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("insert into " + table + " (id, item) values (" + id + ", 'pooled')");
                    }
                    if (own) {
                        pool.close(); // as the webapp's stop would while this request waits for the remote service
                    }
                    StuckOrders.remoteCall(port, label);
                    try {
                        c.commit();
                    } catch (SQLException e) {
                        commit = e.getClass().getName() + ": " + e.getMessage();
                        throw e;
                    }
                } catch (Exception e) {
                    try {
                        c.rollback();
                    } catch (SQLException r) {
                        cleanup = "rollback: " + r.getMessage();
                        throw r;
                    }
                    throw e;
                } finally {
                    try {
                        c.close();
                    } catch (SQLException r) {
                        cleanup = "close: " + r.getMessage();
                        throw r;
                    }
                }
            } catch (Exception e) {
                caller = e.getClass().getName() + ": " + e.getMessage();
            }
            boolean kept = Thread.interrupted();
            StringBuilder r = new StringBuilder();
            r.append("commit=").append(commit.replace('\n', ' ')).append('\n');
            r.append("cleanup=").append(cleanup.replace('\n', ' ')).append('\n');
            r.append("caller=").append(caller.replace('\n', ' ')).append('\n');
            r.append("callerIsCommitFailure=").append(caller.equals(commit)).append('\n');
            r.append("interruptKept=").append(kept).append('\n');
            r.append("id=").append(id).append('\n');
            String lines = r.toString().replaceAll("(?m)^(?=.)", label + ".");
            out.append(lines);
            if (!own) {
                System.out.print(lines.replaceAll("(?m)^(?=.)", "sg-inflight "));
                System.out.flush();
            }
        } finally {
            done.countDown();
        }
    }
}
