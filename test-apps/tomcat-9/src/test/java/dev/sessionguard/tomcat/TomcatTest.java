package dev.sessionguard.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static dev.sessionguard.testing.ServerDist.deleteTree;
import static dev.sessionguard.testing.ServerDist.freePort;
import static dev.sessionguard.testing.ServerDist.parse;
import static dev.sessionguard.testing.ServerDist.unzip;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.ServerDist;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/**
 * #13: a legacy WAR in a real Apache Tomcat (9.0 here, 10.1 in ../tomcat-10 with jakarta.servlet; the distribution zip from Maven Central), started as users start
 * it ({@code bin/catalina.sh run}, the agent in {@code bin/setenv.sh}'s CATALINA_OPTS), its DataSource from
 * JNDI ({@code META-INF/context.xml}, Tomcat's own DBCP, and the Tomcat JDBC pool, over PostgreSQL, the driver in Tomcat's lib/). One
 * server start without the agent and one with it:
 * <ul>
 *   <li>the backend of a request's connection is killed inside its transaction: without the agent the
 *       rollback on the dead connection throws over the commit's exception; with it the caller sees the commit
 *       failure and nothing escapes cleanup;</li>
 *   <li>the same through the WAR's own Hibernate (WEB-INF/lib: 5.6 in Tomcat 9, 6.6 in Tomcat 10) on the JNDI
 *       DBCP: Transaction.commit() fails, rollback() in catch, close() in finally; Hibernate rolls back inside
 *       the failed commit, so the caller sees the commit failure without the agent too: the agent weaves the
 *       webapp's Hibernate and changes nothing;</li>
 *   <li>a slow request interrupted by Tomcat's StuckThreadDetectionValve (a second deployment of the WAR,
 *       {@code /stuck}) before it commits to the webapp's embedded H2 1.4.200 file database: without the agent the
 *       commit fails and H2 closes the database under every other connection; with it the order is committed and
 *       seen, and the interrupt is still set afterwards;</li>
 *   <li>the webapp's Hibernate session factory closed under a request in a running Tomcat (the DAO commits, rolls
 *       back in catch, or leaves the rollback to close(): then without the agent the DBCP connection stays checked
 *       out "idle in transaction", with it the connection is rolled back and returned), and Tomcat stopped by
 *       SIGTERM with requests in flight (the webapp's stop closes their factory, the connector's shutdownNow()
 *       interrupts their threads): the committing one stores its order and keeps its interrupt with and without
 *       the agent, the other keeps its connection "idle in transaction" without the agent only;</li>
 *   <li>the webapp's own HikariCP pool closed under a request, in a running Tomcat and by Tomcat's stop: without
 *       the agent the rollback's "Connection is closed" replaces the commit failure, with it the caller sees the
 *       commit failure;</li>
 *   <li>the WAR redeployed 20 times through the manager (with traffic between): the webapp class loaders of
 *       the old deployments are collected (counted in a class histogram, which runs a full GC) as they are
 *       without the agent (Tomcat keeps one stopped deployment's loader a while, without the agent too), and
 *       the agent's events keep being counted across the redeploys.</li>
 * </ul>
 */
class TomcatTest {

    static final String VERSION = System.getProperty("sg.tomcat.version", "9.0.98");
    static final Path DIST = Paths.get("target", "dist").toAbsolutePath();
    static final String PG_URL = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String PG_USER = System.getProperty("sg.pg.user", "postgres");
    static final String LOADER = "org.apache.catalina.loader.ParallelWebappClassLoader";
    static final int REDEPLOYS = 20;

    @Test
    void aLegacyWarInTomcat() throws Exception {
        Map<String, String> plain = run(false);
        Map<String, String> agent = run(true);
        System.out.println("Tomcat " + VERSION + " without the agent: " + plain);
        System.out.println("Tomcat " + VERSION + " with the agent: " + agent);
        // Tomcat's DBCP (no prefix) and the Tomcat JDBC pool ("jdbcpool.", Proxy connections) from JNDI
        for (String pool : List.of("", "jdbcpool.")) {
            assertNotEquals("none", plain.get(pool + "cleanup"), "without the agent the rollback on the dead connection throws: " + plain);
            assertEquals("false", plain.get(pool + "callerIsCommitFailure"), plain.toString());
            assertEquals("none", agent.get(pool + "cleanup"), "with the agent nothing escapes cleanup: " + agent);
            assertEquals("true", agent.get(pool + "callerIsCommitFailure"), "the caller sees the commit failure: " + agent);
            assertTrue(plain.get(pool + "rollbackAfterClose").startsWith("java.sql.SQLException"), plain.toString());
            assertEquals("returned", agent.get(pool + "rollbackAfterClose"), agent.toString());
        }
        // the WAR's Hibernate on Tomcat's DBCP, woven in the webapp's class loader: Hibernate (5.6, 6.6) rolls back
        // inside the failed commit and makes the DAO's rollback() a no-op, so the caller sees the commit failure
        // without the agent too; the agent must leave that as it is
        for (Map<String, String> r : List.of(plain, agent)) {
            assertTrue(r.get("hib.commit").contains("Unable to commit against JDBC Connection"), r.toString());
            assertEquals("none", r.get("hib.cleanup"), "nothing escapes Hibernate's cleanup: " + r);
            assertEquals("true", r.get("hib.callerIsCommitFailure"), "the caller sees Hibernate's commit failure: " + r);
        }
        assertEquals("true", agent.get("wovenHibernate"), "the WAR's Hibernate is woven: " + agent);
        assertTrue(plain.get("ownrollbackAfterClose").startsWith("java.sql.SQLException"), plain.toString());
        assertEquals("returned", agent.get("ownrollbackAfterClose"), agent.toString());
        assertEquals("true", agent.get("loggedThroughTheWebappsSlf4j"), "the agent's lines about the webapp's own pool went to its SLF4J");
        for (Map<String, String> r : List.of(plain, agent)) {
            // Tomcat itself keeps one stopped deployment's loader for a while (without the agent too): what must not
            // happen is one kept per redeploy
            assertTrue(Long.parseLong(r.get("loadersAfter")) <= Long.parseLong(r.get("loadersBefore")) + 1,
                    "the old webapp class loaders are collected after " + REDEPLOYS + " redeploys, not kept one per redeploy: " + r);
            assertEquals(String.valueOf(REDEPLOYS * 3), r.get("committed"), r.toString());
            assertEquals(String.valueOf(REDEPLOYS * 3), r.get("rows"), "every acknowledged order is in the database: " + r);
        }
        assertEquals(plain.get("loadersAfter"), agent.get("loadersAfter"), "the same with and without the agent");
        // a slow request interrupted by Tomcat's StuckThreadDetectionValve, then committing to the webapp's
        // embedded H2 1.4.200: without the agent the commit fails on the interrupt and H2 closes the database
        // under every other connection; with it the commit is shielded, the order is stored and seen, and the
        // interrupt is still set after the commit
        for (Map<String, String> r : List.of(plain, agent)) {
            assertEquals("true", r.get("stuck.interruptedAtCommit"), "the valve interrupted the request before its commit: " + r);
        }
        assertTrue(plain.get("stuck.commit").contains("ClosedByInterruptException") || plain.get("stuck.commit").contains("Writing to"),
                "without the agent the interrupted commit fails: " + plain);
        assertTrue(plain.get("stuck.otherConnection").contains("The database has been closed"),
                "without the agent H2 closes the database under the other connections: " + plain);
        assertEquals("ok", agent.get("stuck.commit"), "with the agent the commit is shielded from the interrupt: " + agent);
        assertEquals("none", agent.get("stuck.cleanup"), agent.toString());
        assertEquals("1", agent.get("stuck.otherConnection"), "the acknowledged order is stored and the database still open: " + agent);
        assertEquals("true", agent.get("stuck.interruptKept"), "the interrupt is not lost: " + agent);
        // the session factory closed under a request (Hibernate on the JNDI DBCP): in a running Tomcat, the DAO
        // commits ("closed") or rolls back in catch ("closedfail"): the same without and with the agent, nothing
        // left checked out; a DAO that leaves the rollback to close() ("closednocatch"): Hibernate's close() does
        // nothing once its factory is closed, so without the agent the connection stays checked out with its
        // transaction open ("idle in transaction": its locks held); with the agent it is rolled back and returned
        for (Map<String, String> r : List.of(plain, agent)) {
            assertEquals("true", r.get("closed.acknowledged"), r.toString());
            assertEquals("1", r.get("closed.rows"), "the acknowledged order is stored: " + r);
            assertEquals("0", r.get("closed.checkedOut"), r.toString());
            assertEquals("java.io.IOException: the remote service failed", r.get("closedfail.caller"), r.toString());
            assertEquals("0", r.get("closedfail.rows"), r.toString());
            assertEquals("0", r.get("closedfail.checkedOut"), r.toString());
            assertEquals("java.io.IOException: the remote service failed", r.get("closednocatch.caller"), "the caller sees its own failure: " + r);
            assertEquals("0", r.get("closednocatch.rows"), r.toString());
        }
        assertEquals("1", plain.get("closednocatch.checkedOut"), "without the agent close() leaves the connection checked out: " + plain);
        assertEquals("idle in transaction", plain.get("closednocatch.backend"), plain.toString());
        assertEquals("0", agent.get("closednocatch.checkedOut"), "with the agent close() returns the connection: " + agent);
        assertEquals("idle", agent.get("closednocatch.backend"), "rolled back, back in the pool: " + agent);
        // Tomcat stopped (SIGTERM) with two such requests in flight: the webapp stops (its factory closed), then the
        // connector's executor is shut down with shutdownNow(), which interrupts both request threads; then the
        // remote service answers one ("stopping": the DAO commits) and fails the other ("stoppingnocatch")
        for (Map<String, String> r : List.of(plain, agent)) {
            assertEquals("true", r.get("stopping.interruptedAtCommit"), "Tomcat interrupted the request thread before its commit: " + r);
            for (String label : List.of("stopping", "stoppingnocatch")) {
                assertEquals("true", r.get(label + ".interruptKept"), "the interrupt is not lost: " + r);
            }
            assertEquals("true", r.get("stopping.acknowledged"), "PostgreSQL's driver ignores the interrupt: the commit runs: " + r);
            assertEquals("1", r.get("stopping.rows"), "the acknowledged order is stored: " + r);
            assertEquals("0", r.get("stoppingnocatch.rows"), r.toString());
        }
        assertEquals("idle in transaction", plain.get("stoppingnocatch.backend"),
                "without the agent the stopped webapp's session keeps its connection and transaction: " + plain);
        assertNotEquals("idle in transaction", agent.get("stoppingnocatch.backend"), "with the agent it is rolled back and closed: " + agent);
        assertTrue(Long.parseLong(agent.get("close.released")) >= 2, "the agent released the sessions' connections: " + agent);
        // the webapp's own HikariCP pool closed under a request (by the request in a running Tomcat, "poolclosed";
        // by the webapp's stop, "stoppingpool"): HikariCP aborts the connection, the commit fails and the rollback
        // in catch fails too: without the agent the rollback's exception replaces the commit failure; with it the
        // caller sees the commit failure; nothing is stored either way
        for (String label : List.of("poolclosed", "stoppingpool")) {
            assertTrue(plain.get(label + ".commit").contains("This connection has been closed."), plain.toString());
            assertEquals("rollback: Connection is closed", plain.get(label + ".cleanup"), plain.toString());
            assertEquals("false", plain.get(label + ".callerIsCommitFailure"), plain.toString());
            assertEquals("none", agent.get(label + ".cleanup"), "with the agent nothing escapes cleanup: " + agent);
            assertEquals("true", agent.get(label + ".callerIsCommitFailure"), "the caller sees the commit failure: " + agent);
            for (Map<String, String> r : List.of(plain, agent)) {
                assertEquals("0", r.get(label + ".rows"), r.toString());
            }
        }
        assertEquals("true", plain.get("stoppingpool.interruptKept"), plain.toString());
        assertEquals("true", agent.get("stoppingpool.interruptKept"), "the interrupt is not lost: " + agent);
        assertTrue(Long.parseLong(agent.get("rollback.swallowed")) >= REDEPLOYS + 1,
                "events counted across redeploys (one per cleanup request, one per cycle): " + agent);
    }

    private Map<String, String> run(boolean withAgent) throws Exception {
        String label = withAgent ? "agent" : "plain";
        Path home = Paths.get("target", "tomcat-" + label).toAbsolutePath();
        deleteTree(home);
        unzip(DIST.resolve("tomcat-" + VERSION + ".zip"), "apache-tomcat-" + VERSION + "/", home);
        int port = freePort();
        String table = "sg_tomcat_" + label + "_" + ProcessHandle.current().pid();
        ServerDist.createTable(PG_URL, PG_USER, table);
        // the distribution as a user sets it up: its own webapps removed but the manager, a user for the manager's
        // text interface, the JDBC driver in lib/, a free port, the agent in setenv.sh
        try (Stream<Path> apps = Files.list(home.resolve("webapps"))) {
            for (Path p : (Iterable<Path>) apps::iterator) {
                if (!p.getFileName().toString().equals("manager")) {
                    deleteTree(p);
                }
            }
        }
        Files.write(home.resolve("conf/tomcat-users.xml"), ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tomcat-users>\n"
                + "  <user username=\"sg\" password=\"sg\" roles=\"manager-script\"/>\n</tomcat-users>\n").getBytes(StandardCharsets.UTF_8));
        String server = new String(Files.readAllBytes(home.resolve("conf/server.xml")), StandardCharsets.UTF_8)
                .replace("port=\"8080\"", "port=\"" + port + "\"").replace("port=\"8005\"", "port=\"-1\"");
        Files.write(home.resolve("conf/server.xml"), server.getBytes(StandardCharsets.UTF_8));
        try (Stream<Path> jars = Files.list(DIST)) {
            for (Path j : (Iterable<Path>) jars::iterator) {
                if (j.getFileName().toString().startsWith("postgresql-")) {
                    Files.copy(j, home.resolve("lib").resolve(j.getFileName()));
                }
            }
        }
        Path report = home.resolve("sg-report.json");
        if (withAgent) {
            Files.write(home.resolve("bin/setenv.sh"), ("CATALINA_OPTS=\"$CATALINA_OPTS -javaagent:" + Fork.AGENT_JAR
                    + "=report=" + report + "\"\n").getBytes(StandardCharsets.UTF_8));
        }
        Path war = home.resolve("orders.war");
        writeWar(war, table, "", "");
        // the same WAR as a second webapp, /stuck, whose context interrupts requests that run over a second
        // (StuckThreadDetectionValve, checked every second), with its orders in an embedded H2 file database
        Path stuckWar = home.resolve("stuck.war");
        writeWar(stuckWar, table, " backgroundProcessorDelay=\"1\"",
                "  <Valve className=\"org.apache.catalina.valves.StuckThreadDetectionValve\" threshold=\"1\" interruptThreadThreshold=\"1\"/>\n"
                + "  <Parameter name=\"h2Url\" value=\"jdbc:h2:file:" + home.resolve("h2").resolve("orders")
                + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE\" override=\"false\"/>\n");
        Files.copy(war, home.resolve("webapps/orders.war"));

        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/catalina.sh").toString(), "run").redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("CATALINA_HOME", home.toString());
        pb.environment().remove("CATALINA_OPTS");
        pb.environment().remove("JAVA_OPTS");
        Process tomcat = pb.start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(tomcat.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (log) {
                        log.append(l).append('\n');
                    }
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "tomcat-log");
        reader.setDaemon(true);
        reader.start();
        Map<String, String> result = new LinkedHashMap<>();
        try {
            awaitLine(lines, "Server startup in", log);
            String base = "http://127.0.0.1:" + port;
            result.putAll(parse(ServerDist.get(base + "/orders/do/deadconn", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/cleanup", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/deadconn?pool=jdbcpool", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/cleanup?pool=jdbcpool", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/owncleanup", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/hibdeadconn", null)));
            result.putAll(stuckRequest(base, stuckWar, lines, log));
            result.put("loadersBefore", String.valueOf(webappLoaders(tomcat.pid())));
            int committed = 0;
            for (int i = 0; i < REDEPLOYS; i++) {
                for (int k = 0; k < 3; k++) {
                    if (parse(ServerDist.get(base + "/orders/do/commit", null)).containsKey("committed")) {
                        committed++;
                    }
                }
                ServerDist.get(base + "/orders/do/cleanup", null);
                ServerDist.get(base + "/orders/do/owncleanup", null);
                String deployed = ServerDist.get(base + "/manager/text/deploy?path=/orders&update=true&war=" + war.toUri(), "sg:sg");
                assertTrue(deployed.startsWith("OK"), "redeploy " + (i + 1) + ": " + deployed);
            }
            result.put("committed", String.valueOf(committed));
            result.put("loadersAfter", String.valueOf(webappLoaders(tomcat.pid())));
            result.put("rows", String.valueOf(ServerDist.rows(PG_URL, PG_USER, table)));
            result.putAll(factoryClosedUnderRequests(tomcat, base, table, lines, log, reader));
        } catch (Throwable t) {
            synchronized (log) {
                Files.write(home.resolve("console.log"), log.toString().getBytes(StandardCharsets.UTF_8));
            }
            throw t;
        } finally {
            tomcat.destroy(); // SIGTERM: Tomcat's own shutdown hook stops it, the agent writes its report
            if (!tomcat.waitFor(60, TimeUnit.SECONDS)) {
                tomcat.destroyForcibly();
            }
            ServerDist.dropTable(PG_URL, PG_USER, table);
        }
        String all;
        synchronized (log) {
            all = log.toString();
        }
        Files.write(home.resolve("console.log"), all.getBytes(StandardCharsets.UTF_8)); // kept for a failure's reader
        assertTrue(!all.contains("NoClassDefFoundError") && !all.contains("VerifyError") && !all.contains("LinkageError"), all);
        if (withAgent) {
            assertTrue(all.contains("[sessionguard]") || Files.exists(report), "the agent ran: " + all);
            String json = new String(Files.readAllBytes(report), StandardCharsets.UTF_8);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"rollback\\.swallowed\": (\\d+)").matcher(json);
            assertTrue(m.find(), json);
            result.put("rollback.swallowed", m.group(1));
            java.util.regex.Matcher released = java.util.regex.Pattern.compile("\"close\\.released\": (\\d+)").matcher(json);
            result.put("close.released", released.find() ? released.group(1) : "0");
            result.put("wovenHibernate", String.valueOf(json.contains("org.hibernate.internal.SessionImpl#close")
                    && json.contains("org.hibernate.engine.transaction.internal.TransactionImpl#commit")));
            // slf4j-simple's format: the webapp's SLF4J (not java.util.logging's, which would say WARNING)
            result.put("loggedThroughTheWebappsSlf4j", String.valueOf(all.matches("(?s).*WARN sessionguard - rollback\\.swallowed reason=closed at com\\.zaxxer\\.hikari.*")));
        }
        return result;
    }

    /**
     * The /stuck webapp deployed; one request to it, held in its "remote call" (a socket this test accepts and
     * answers) until Tomcat's StuckThreadDetectionValve says it interrupted the request's thread; then answered,
     * so that the request commits with its interrupt flag set. Returns the request's answer.
     */
    private static Map<String, String> stuckRequest(String base, Path war, LinkedBlockingQueue<String> lines, StringBuilder log) throws Exception {
        String deployed = ServerDist.get(base + "/manager/text/deploy?path=/stuck&war=" + war.toUri(), "sg:sg");
        assertTrue(deployed.startsWith("OK"), "deploy /stuck: " + deployed);
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (ServerSocket remote = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            remote.setSoTimeout(120_000);
            Future<String> answer = caller.submit(() -> ServerDist.get(base + "/stuck/do/stuck?port=" + remote.getLocalPort(), null));
            try (Socket call = remote.accept()) {
                awaitLine(lines, "has been interrupted because it was active", log);
                call.getOutputStream().write('\n');
                call.getOutputStream().flush();
                return parse(answer.get(120, TimeUnit.SECONDS));
            }
        } finally {
            caller.shutdownNow();
        }
    }

    /**
     * The session factory closed under a request: first by the request itself in a running Tomcat ({@code closed.*};
     * it also loads every class of that path in the current deployment), then by the webapp's stop while Tomcat
     * stops on SIGTERM with the request in flight ({@code stopping.*}: the request is answered only after Tomcat
     * has interrupted its thread in shutting down the connector's executor, and prints its keys on standard
     * output). Adds {@code closed.rows} and {@code stopping.rows}: the order's rows in the database afterwards.
     */
    private static Map<String, String> factoryClosedUnderRequests(Process tomcat, String base, String table,
            LinkedBlockingQueue<String> lines, StringBuilder log, Thread reader) throws Exception {
        Map<String, String> result = new LinkedHashMap<>();
        ExecutorService caller = Executors.newFixedThreadPool(3);
        try {
            // in a running Tomcat, each request closes its own factory or pool; the remote service answers (the DAO
            // commits) or fails (the DAO rolls back in catch, or leaves it to close(): "closednocatch")
            Map<String, String> running = new LinkedHashMap<>();
            running.put("inflight?label=closed", "\n");
            running.put("inflight?label=closedfail", "x");
            running.put("inflight?label=closednocatch&catch=false", "x");
            running.put("poolinflight?label=poolclosed", "\n");
            for (Map.Entry<String, String> q : running.entrySet()) {
                try (ServerSocket remote = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    remote.setSoTimeout(120_000);
                    Future<String> answer = caller.submit(() -> ServerDist.get(base + "/orders/do/" + q.getKey() + "&own=true&port=" + remote.getLocalPort(), null));
                    try (Socket call = remote.accept()) {
                        call.getOutputStream().write(q.getValue().charAt(0));
                        call.getOutputStream().flush();
                        result.putAll(parse(answer.get(120, TimeUnit.SECONDS)));
                    }
                }
            }
            // three requests in flight when Tomcat stops: one whose remote service answers (the DAO commits), one
            // whose remote service fails, in a DAO that leaves the rollback to close(), and one on the webapp's
            // own HikariCP pool, which the webapp's stop closes under it
            Map<String, String> stopping = new LinkedHashMap<>();
            stopping.put("stopping", "inflight?label=stopping");
            stopping.put("stoppingnocatch", "inflight?label=stoppingnocatch&catch=false");
            stopping.put("stoppingpool", "poolinflight?label=stoppingpool");
            try (ServerSocket remote = new ServerSocket(0, stopping.size(), InetAddress.getLoopbackAddress())) {
                remote.setSoTimeout(120_000);
                for (String q : stopping.values()) {
                    caller.submit(() -> ServerDist.get(base + "/orders/do/" + q + "&port=" + remote.getLocalPort(), null));
                }
                List<Socket> calls = new ArrayList<>();
                try {
                    for (int i = 0; i < stopping.size(); i++) {
                        calls.add(remote.accept());
                    }
                    // SIGTERM with the requests in flight; through the handle, since Process.destroy() also closes
                    // this side of the server's standard output, where the requests print their outcome
                    assertTrue(tomcat.toHandle().destroy(), "SIGTERM sent");
                    awaitLine(lines, "has not fully shutdown", log); // logged after shutdownNow() interrupted them
                    for (Socket call : calls) {
                        String who = new BufferedReader(new InputStreamReader(call.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                        call.getOutputStream().write("stoppingnocatch".equals(who) ? 'x' : '\n');
                        call.getOutputStream().flush();
                    }
                    assertTrue(tomcat.waitFor(120, TimeUnit.SECONDS), "Tomcat stopped once the requests in flight ended");
                } finally {
                    for (Socket call : calls) {
                        call.close();
                    }
                }
            }
            reader.join(TimeUnit.SECONDS.toMillis(30));
            String all;
            synchronized (log) {
                all = log.toString();
            }
            for (String l : all.split("\n")) {
                if (l.startsWith("sg-inflight ")) {
                    result.putAll(parse(l.substring("sg-inflight ".length())));
                }
            }
            for (String label : List.of("closed", "closedfail", "closednocatch", "poolclosed", "stopping", "stoppingnocatch", "stoppingpool")) {
                assertTrue(result.containsKey(label + ".id"), "the request " + label + " told its outcome: " + result + "\n" + all);
                result.put(label + ".rows", String.valueOf(rowsWithId(table, result.get(label + ".id"))));
            }
        } finally {
            caller.shutdownNow();
        }
        return result;
    }

    private static long rowsWithId(String table, String id) throws Exception {
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, ""); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("select count(*) from " + table + " where id = " + Long.parseLong(id))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Webapp class loaders alive: a class histogram counts instances after a full GC (a few, until it settles). */
    private static long webappLoaders(long pid) throws Exception {
        long last = -1;
        for (int i = 0; i < 5; i++) {
            Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            long n = 0;
            for (String l : out.split("\n")) {
                String[] f = l.trim().split("\\s+");
                if (f.length >= 4 && f[3].equals(LOADER)) {
                    n = Long.parseLong(f[1]);
                }
            }
            if (n == last) {
                return n;
            }
            last = n;
        }
        return last;
    }

    private static void awaitLine(LinkedBlockingQueue<String> lines, String text, StringBuilder log) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < until) {
            String l = lines.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (l != null && l.contains(text)) {
                return;
            }
        }
        synchronized (log) {
            throw new AssertionError("Tomcat did not start: " + log);
        }
    }

    /** The WAR: the servlet's classes and a context.xml with the JNDI pool (Tomcat's DBCP) and the table. */
    private static void writeWar(Path war, String table, String contextAttributes, String contextExtra) throws IOException {
        Path classes = Paths.get("target", "classes");
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(war)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                o.putNextEntry(new JarEntry("WEB-INF/classes/" + classes.relativize(f).toString().replace(File.separatorChar, '/')));
                o.write(Files.readAllBytes(f));
                o.closeEntry();
            }
            try (Stream<Path> libs = Files.list(Paths.get("target", "webapp-lib"))) {
                for (Path j : (Iterable<Path>) libs::iterator) {
                    o.putNextEntry(new JarEntry("WEB-INF/lib/" + j.getFileName()));
                    o.write(Files.readAllBytes(j));
                    o.closeEntry();
                }
            }
            o.putNextEntry(new JarEntry("META-INF/context.xml"));
            o.write(("<Context" + contextAttributes + ">\n" + contextExtra
                    + "  <Resource name=\"jdbc/orders\" auth=\"Container\" type=\"javax.sql.DataSource\"\n"
                    + "            factory=\"org.apache.tomcat.dbcp.dbcp2.BasicDataSourceFactory\" driverClassName=\"org.postgresql.Driver\"\n"
                    + "            url=\"" + PG_URL + "\" username=\"" + PG_USER + "\" password=\"\" maxTotal=\"4\" maxIdle=\"4\"/>\n"
                    + "  <Resource name=\"jdbc/ordersJdbcPool\" auth=\"Container\" type=\"javax.sql.DataSource\"\n"
                    + "            factory=\"org.apache.tomcat.jdbc.pool.DataSourceFactory\" driverClassName=\"org.postgresql.Driver\"\n"
                    + "            url=\"" + PG_URL + "\" username=\"" + PG_USER + "\" password=\"\" maxActive=\"4\" maxIdle=\"4\"/>\n"
                    + "  <Parameter name=\"table\" value=\"" + table + "\" override=\"false\"/>\n"
                    + "  <Parameter name=\"pgUrl\" value=\"" + PG_URL + "\" override=\"false\"/>\n"
                    + "  <Parameter name=\"pgUser\" value=\"" + PG_USER + "\" override=\"false\"/>\n"
                    + "</Context>\n").getBytes(StandardCharsets.UTF_8));
            o.closeEntry();
        }
    }
}
