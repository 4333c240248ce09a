package dev.sessionguard.tomcat;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;
import javax.naming.InitialContext;
import javax.servlet.annotation.WebServlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.sql.DataSource;

/**
 * A legacy order servlet as WARs of the 2000s have it: a DAO that commits in try, rolls back in catch and
 * closes in finally, on {@code java:comp/env/jdbc/orders} (META-INF/context.xml: Tomcat's DBCP over
 * PostgreSQL), or with {@code ?pool=jdbcpool} on {@code java:comp/env/jdbc/ordersJdbcPool} (the Tomcat JDBC pool). {@code /do/commit} stores an order; {@code /do/cleanup} rolls back a connection it has closed
 * (the double cleanup of legacy code); {@code /do/deadconn} has the server end the connection's backend
 * inside the transaction; {@code /do/jta?case=...} (WildFly only) runs a container-managed JTA transaction of
 * {@link JtaOrders}. Each answers {@code key=value} lines.
 */
@WebServlet("/do/*")
public class OrdersServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String action = req.getPathInfo() == null ? "" : req.getPathInfo().substring(1);
        String table = getServletContext().getInitParameter("table");
        StringBuilder out = new StringBuilder();
        // ?pool=jdbcpool: the same DAO on the second JNDI resource, the Tomcat JDBC pool (its connections are
        // java.lang.reflect.Proxy instances); its keys are prefixed with "jdbcpool."
        boolean jdbcPool = "jdbcpool".equals(req.getParameter("pool"));
        try {
            DataSource ds = (DataSource) new InitialContext().lookup(jdbcPool ? "java:comp/env/jdbc/ordersJdbcPool" : "java:comp/env/jdbc/orders");
            switch (action) {
                case "commit":
                    commit(ds, table, out);
                    break;
                case "cleanup":
                    cleanup(ds, out);
                    break;
                case "deadconn":
                    deadConnection(ds, table, out);
                    break;
                case "hibdeadconn":
                    // Tomcat only: the same through the WAR's Hibernate (HibernateOrders)
                    HibernateOrders.deadConnection(ds, table, out);
                    break;
                case "inflight":
                    // Tomcat only: the session factory closed under a request (HibernateOrders.inFlight)
                    HibernateOrders.inFlight(ds, table, Integer.parseInt(req.getParameter("port")), "true".equals(req.getParameter("own")),
                            !"false".equals(req.getParameter("catch")), req.getParameter("label"),
                            getServletContext().getInitParameter("pgUrl"), getServletContext().getInitParameter("pgUser"), out);
                    break;
                case "poolinflight":
                    // Tomcat only: the webapp's own HikariCP pool closed under a request (PoolOrders)
                    PoolOrders.inFlight(table, Integer.parseInt(req.getParameter("port")), "true".equals(req.getParameter("own")), req.getParameter("label"),
                            getServletContext().getInitParameter("pgUrl"), getServletContext().getInitParameter("pgUser"), out);
                    break;
                case "stuck":
                    // Tomcat only: a slow request interrupted by the StuckThreadDetectionValve before it commits
                    StuckOrders.serve(getServletContext().getInitParameter("h2Url"), Integer.parseInt(req.getParameter("port")), out);
                    break;
                case "jta":
                    // WildFly only: container-managed JTA transactions through JPA (JtaOrders, WEB-INF/ejb-jar.xml)
                    JtaOrders.serve(req.getParameter("case"), ds, table, out);
                    break;
                case "owncleanup":
                    // the same double cleanup on the webapp's own HikariCP pool: prefixed keys
                    StringBuilder own = new StringBuilder();
                    cleanup(OwnPool.pool, own);
                    out.append("own").append(own);
                    break;
                default:
                    out.append("ok=true\n");
            }
        } catch (Exception e) {
            out.append("jta".equals(action) ? "jta." + req.getParameter("case") + ".crash=" : "crash=").append(e).append('\n');
        }
        resp.setContentType("text/plain");
        resp.getWriter().print(jdbcPool ? out.toString().replaceAll("(?m)^(?=.)", "jdbcpool.") : out);
    }

    private static void commit(DataSource ds, String table, StringBuilder out) throws SQLException {
        long id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("insert into " + table + " (id, item) values (" + id + ", 'order')");
            }
            c.commit();
        }
        out.append("committed=").append(id).append('\n');
    }

    private static void cleanup(DataSource ds, StringBuilder out) {
        try {
            Connection c = ds.getConnection();
            c.close();
            c.rollback();
            out.append("rollbackAfterClose=returned\n");
        } catch (SQLException e) {
            out.append("rollbackAfterClose=").append(e.getClass().getName()).append(": ").append(e.getMessage()).append('\n');
        }
    }

    private static void deadConnection(DataSource ds, String table, StringBuilder out) throws SQLException {
        String commit = "ok";
        String cleanup = "none";
        String caller = "none";
        try {
            Connection c = ds.getConnection();
            try {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("insert into " + table + " (id, item) values (-1, 'lost')");
                }
                long backend;
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    backend = rs.getLong(1);
                }
                try (Connection admin = ds.getConnection(); Statement s = admin.createStatement()) {
                    s.execute("select pg_terminate_backend(" + backend + ")");
                }
                try {
                    c.commit();
                } catch (SQLException e) {
                    commit = e.getClass().getName() + ": " + e.getMessage();
                    throw e;
                }
            } catch (SQLException e) {
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
        } catch (SQLException e) {
            caller = e.getClass().getName() + ": " + e.getMessage();
        }
        out.append("commit=").append(commit.replace('\n', ' ')).append('\n');
        out.append("cleanup=").append(cleanup.replace('\n', ' ')).append('\n');
        out.append("caller=").append(caller.replace('\n', ' ')).append('\n');
        out.append("callerIsCommitFailure=").append(caller.equals(commit)).append('\n');
    }
}
