package dev.sessionguard.wildfly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static dev.sessionguard.testing.ServerDist.deleteTree;
import static dev.sessionguard.testing.ServerDist.freePort;
import static dev.sessionguard.testing.ServerDist.parse;
import static dev.sessionguard.testing.ServerDist.unzip;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.ServerDist;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/**
 * #13: the legacy servlet in a real WildFly (26.1.3.Final, the last javax release, here; 38.0.0.Final with
 * jakarta.servlet in ../wildfly-38), started as users start it ({@code bin/standalone.sh},
 * the agent appended to {@code JAVA_OPTS} at the end of {@code bin/standalone.conf}, which also sets
 * {@code -Djboss.modules.system.pkgs=org.jboss.byteman}), its DataSource an IronJacamar datasource
 * ({@code orders-ds.xml} in deployments/, the PostgreSQL driver deployed beside it), reached through
 * {@code java:comp/env/jdbc/orders} (web.xml resource-ref). One server start without the agent, one with it at
 * {@code log=info} (its start line must not break WildFly's logging subsystem):
 * <ul>
 *   <li>the backend of a request's connection killed inside its transaction: without the agent the rollback's
 *       "This connection has been closed." replaces the commit failure; with it the caller sees the commit
 *       failure and nothing escapes cleanup; the woven class is IronJacamar's WrappedConnection, inside a JBoss
 *       Modules module, with no flag beyond -javaagent;</li>
 *   <li>a rollback after close on the handle: IronJacamar's IJ031040 without the agent, swallowed with it.</li>
 * </ul>
 */
class WildFlyTest {

    static final String VERSION = System.getProperty("sg.wildfly.version", "26.1.3.Final");
    static final Path DIST = Paths.get("target", "dist").toAbsolutePath();
    static final String PG_URL = System.getProperty("sg.pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    static final String PG_USER = System.getProperty("sg.pg.user", "postgres");

    @Test
    void aLegacyWarInWildFly() throws Exception {
        Map<String, String> plain = run(false);
        Map<String, String> agent = run(true);
        System.out.println("WildFly " + VERSION + " without the agent: " + plain);
        System.out.println("WildFly " + VERSION + " with the agent: " + agent);
        assertNotEquals("none", plain.get("cleanup"), "without the agent the rollback on the dead connection throws: " + plain);
        assertEquals("false", plain.get("callerIsCommitFailure"), plain.toString());
        assertEquals("none", agent.get("cleanup"), "with the agent nothing escapes cleanup: " + agent);
        assertEquals("true", agent.get("callerIsCommitFailure"), "the caller sees the commit failure: " + agent);
        assertTrue(plain.get("rollbackAfterClose").contains("IJ031040"), plain.toString());
        assertEquals("returned", agent.get("rollbackAfterClose"), agent.toString());
        assertEquals("true", agent.get("wovenIronJacamar"), "the agent's lines name IronJacamar's WrappedConnection: " + agent);
        assertEquals("true", agent.get("linesInServerLog"), "its lines are in WildFly's server.log: " + agent);
    }

    private Map<String, String> run(boolean withAgent) throws Exception {
        String label = withAgent ? "agent" : "plain";
        Path home = Paths.get("target", "wildfly-" + label).toAbsolutePath();
        deleteTree(home);
        unzip(DIST.resolve("wildfly-dist-" + VERSION + ".zip"), "wildfly-" + VERSION + "/", home);
        String table = "sg_wildfly_" + label + "_" + ProcessHandle.current().pid();
        ServerDist.createTable(PG_URL, PG_USER, table);
        Path deployments = home.resolve("standalone/deployments");
        try (Stream<Path> jars = Files.list(DIST)) {
            for (Path j : (Iterable<Path>) jars::iterator) {
                if (j.getFileName().toString().startsWith("postgresql-")) {
                    Files.copy(j, deployments.resolve("postgresql.jar"));
                }
            }
        }
        Files.write(deployments.resolve("orders-ds.xml"), ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<datasources xmlns=\"http://www.jboss.org/ironjacamar/schema\">\n"
                + "  <datasource jndi-name=\"java:jboss/datasources/OrdersDS\" pool-name=\"OrdersDS\">\n"
                + "    <connection-url>" + PG_URL + "</connection-url>\n"
                + "    <driver>postgresql.jar</driver>\n"
                + "    <security><user-name>" + PG_USER + "</user-name><password></password></security>\n"
                + "    <pool><min-pool-size>0</min-pool-size><max-pool-size>4</max-pool-size></pool>\n"
                + "  </datasource>\n</datasources>\n").getBytes(StandardCharsets.UTF_8));
        writeWar(deployments.resolve("orders.war"), table);
        if (withAgent) {
            Files.write(home.resolve("bin/standalone.conf"), ("\nJAVA_OPTS=\"$JAVA_OPTS -javaagent:" + Fork.AGENT_JAR
                    + "=log=info\"\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        }
        int port = freePort();
        int offset = port - 8080;
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/standalone.sh").toString(),
                "-Djboss.socket.binding.port-offset=" + offset).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JBOSS_HOME", home.toString());
        pb.environment().put("LAUNCH_JBOSS_IN_BACKGROUND", "1");
        pb.environment().remove("JAVA_OPTS");
        Process server = pb.start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder log = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (log) {
                        log.append(l).append('\n');
                    }
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "wildfly-log");
        reader.setDaemon(true);
        reader.start();
        Map<String, String> result = new LinkedHashMap<>();
        try {
            String started = awaitLine(lines, "WFLYSRV0025", "WFLYSRV0026", log);
            result.put("started", started.contains("WFLYSRV0025") ? "cleanly" : "with errors");
            String base = "http://127.0.0.1:" + port;
            result.putAll(parse(ServerDist.get(base + "/orders/do/deadconn", null)));
            result.putAll(parse(ServerDist.get(base + "/orders/do/cleanup", null)));
        } finally {
            stop(server);
            ServerDist.dropTable(PG_URL, PG_USER, table);
        }
        String all;
        synchronized (log) {
            all = log.toString();
        }
        assertEquals("cleanly", result.get("started"), all);
        assertFalse(all.contains("WFLYLOG0078") || all.contains("NoClassDefFoundError") || all.contains("VerifyError")
                || all.contains("LinkageError"), all);
        if (withAgent) {
            result.put("wovenIronJacamar", String.valueOf(all.contains("at org.jboss.jca.adapters.jdbc.WrappedConnection#commit")));
            String serverLog = new String(Files.readAllBytes(home.resolve("standalone/log/server.log")), StandardCharsets.UTF_8);
            result.put("linesInServerLog", String.valueOf(serverLog.contains("rollback.swallowed reason=closed at org.jboss.jca.adapters.jdbc.WrappedConnection#rollback")));
        }
        return result;
    }

    /** SIGTERM to standalone.sh, which passes it to the server (LAUNCH_JBOSS_IN_BACKGROUND) and waits for it. */
    private static void stop(Process server) throws InterruptedException {
        List<ProcessHandle> all = new ArrayList<>();
        server.descendants().forEach(all::add);
        server.destroy();
        if (!server.waitFor(60, TimeUnit.SECONDS)) {
            server.destroyForcibly();
        }
        for (ProcessHandle p : all) {
            p.destroyForcibly();
        }
    }

    private static String awaitLine(LinkedBlockingQueue<String> lines, String ok, String failed, StringBuilder log) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < until) {
            String l = lines.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (l != null && (l.contains(ok) || l.contains(failed))) {
                return l;
            }
        }
        synchronized (log) {
            throw new AssertionError("WildFly did not start: " + log);
        }
    }

    /** The servlet only (the WAR of Tomcat's test without its own pool) and a web.xml mapping the datasource. */
    private static void writeWar(Path war, String table) throws IOException {
        String cls = "dev/sessionguard/tomcat/OrdersServlet.class";
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(war))) {
            o.putNextEntry(new JarEntry("WEB-INF/classes/" + cls));
            o.write(Files.readAllBytes(Paths.get("target", "classes").resolve(cls)));
            o.closeEntry();
            o.putNextEntry(new JarEntry("WEB-INF/web.xml"));
            o.write(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    + (Integer.parseInt(VERSION.substring(0, VERSION.indexOf('.'))) >= 27 // jakarta from WildFly 27 on
                            ? "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.0\">\n"
                            : "<web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"4.0\">\n")
                    + "  <context-param><param-name>table</param-name><param-value>" + table + "</param-value></context-param>\n"
                    + "  <resource-ref>\n    <res-ref-name>jdbc/orders</res-ref-name>\n    <res-type>javax.sql.DataSource</res-type>\n"
                    + "    <lookup-name>java:jboss/datasources/OrdersDS</lookup-name>\n  </resource-ref>\n"
                    + "</web-app>\n").getBytes(StandardCharsets.UTF_8));
            o.closeEntry();
        }
    }
}
