package dev.sessionguard.wildfly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
 *   <li>a rollback after close on the handle: IronJacamar's IJ031040 without the agent, swallowed with it;</li>
 *   <li>container-managed JTA transactions of a stateless bean ({@code JtaOrders}, WEB-INF/ejb-jar.xml) writing through
 *       JPA on the server's own Hibernate: marked rollback-only; a failed statement caught by the bean (Hibernate
 *       marks the transaction, the container rolls it back and tells the caller nothing, with and without the
 *       agent); the backend killed before the container's commit (the caller gets EJBTransactionRolledbackException
 *       either way, the agent counts commit.failed); the server stopped (SIGTERM) with a transaction in flight
 *       (WildFly waits for it, it commits). The agent weaves the server's Hibernate and changes none of these
 *       outcomes;</li>
 *   <li>the WAR redeployed 20 times through the HTTP management API with orders between: the JBoss Modules class
 *       loaders of the old deployments are collected (a class histogram after a full GC) with and without the
 *       agent, every acknowledged order is there, the agent's events keep being counted.</li>
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
        for (Map<String, String> r : Arrays.asList(plain, agent)) {
            assertEquals(String.valueOf(3 * REDEPLOYS), r.get("committed"), r.toString());
            assertEquals(r.get("committed"), r.get("rowsAfterRedeploys"), "every acknowledged order is there: " + r);
            // WildFly's rare rollback without a failure description (run()): once in a run is WildFly's race, more a pattern
            assertTrue(Integer.parseInt(r.get("redeploysAskedAgain")) <= 1, "redeploys rolled back without a description: " + r);
            // at most one deployment's loaders may still be reachable at the moment of counting (the newest
            // settles); a leak would keep one per redeploy
            assertTrue(Long.parseLong(r.get("loadersAfter")) <= Long.parseLong(r.get("loadersBefore")) + 2,
                    "the old deployments' class loaders are collected after " + REDEPLOYS + " redeploys: " + r);
        }
        assertTrue(Long.parseLong(agent.get("rollback.swallowed")) >= REDEPLOYS, "events counted across redeploys: " + agent);
        // container-managed JTA through the server's own Hibernate: the agent weaves it, and changes no outcome
        assertEquals("true", agent.get("wovenHibernate"), "the server's Hibernate is woven: " + agent.get("report"));
        for (String key : new String[] {"rollbackonly.caller", "rollbackonly.rows", "caughtfailure.caller", "caughtfailure.rows",
            "deadconn.caller", "deadconn.rows", "inflight.waiting", "inflight.shutdownLogged", "inflight.caller",
            "inflight.stopped", "inflight.rowsAfterStop", "inflight.backendsLeft"}) {
            assertEquals(plain.get("jta." + key), agent.get("jta." + key), "jta." + key + " as without the agent: " + agent);
        }
        assertEquals("0", plain.get("jta.rollbackonly.rows"), plain.toString());
        // (javax.persistence.PersistenceException on 26's Hibernate 5.3, SQLGrammarException, a subclass, on 38's 7.x)
        assertTrue(plain.get("jta.caughtfailure.caller").startsWith("returned: caught "),
                "the container rolls back and tells the caller nothing: " + plain);
        assertEquals("0", plain.get("jta.caughtfailure.rows"), plain.toString());
        // the caught failure's JTA transaction, which the container rolls back telling nobody, is reported at ERROR
        // (commit.silentRollback, from Hibernate's own mark and the transaction's completion); the bean's own
        // setRollbackOnly() and the container's failed commit (whose caller is told) are not
        assertEquals("1", agent.get("commit.silentRollback"), "the silent rollback of the caught failure, once: " + agent.get("report"));
        assertTrue(agent.get("agentEvents").contains(
                "commit.silentRollback reason=state at org.hibernate.resource.transaction.backend.jta.internal.JtaTransactionCoordinatorImpl#afterCompletion"),
                agent.toString());
        // the failed commit of the container reaches the caller with the agent too, counted at the driver
        assertTrue(agent.get("jta.deadconn.caller").contains("EJBTransactionRolledbackException"), agent.toString());
        assertEquals("0", agent.get("jta.deadconn.rows"), agent.toString());
        assertTrue(agent.get("agentEvents").contains("commit.failed reason=closed at org.postgresql.jdbc.PgConnection#commit"), agent.toString());
        // stopped with a transaction in flight: WildFly waits for it, it commits, the caller is answered
        assertEquals("true", agent.get("jta.inflight.waiting"), agent.toString());
        assertEquals("returned: lock granted", agent.get("jta.inflight.caller"), agent.toString());
        assertEquals("1", agent.get("jta.inflight.rowsAfterStop"), agent.toString());
        assertEquals("0", agent.get("jta.inflight.backendsLeft"), agent.toString());
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
                // as WildFly's documentation configures PostgreSQL: a broken connection is destroyed, not pooled again
                + "    <validation>\n"
                + "      <valid-connection-checker class-name=\"org.jboss.jca.adapters.jdbc.extensions.postgres.PostgreSQLValidConnectionChecker\"/>\n"
                + "      <validate-on-match>true</validate-on-match>\n"
                + "      <exception-sorter class-name=\"org.jboss.jca.adapters.jdbc.extensions.postgres.PostgreSQLExceptionSorter\"/>\n"
                + "    </validation>\n"
                + "  </datasource>\n"
                // a non-JTA datasource for the bean's administrative statement (pg_terminate_backend)
                + "  <datasource jndi-name=\"java:jboss/datasources/AdminDS\" pool-name=\"AdminDS\" jta=\"false\">\n"
                + "    <connection-url>" + PG_URL + "</connection-url>\n"
                + "    <driver>postgresql.jar</driver>\n"
                + "    <security><user-name>" + PG_USER + "</user-name><password></password></security>\n"
                + "  </datasource>\n</datasources>\n").getBytes(StandardCharsets.UTF_8));
        writeWar(deployments.resolve("orders.war"), table);
        if (withAgent) {
            Files.write(home.resolve("bin/standalone.conf"), ("\nJAVA_OPTS=\"$JAVA_OPTS -javaagent:" + Fork.AGENT_JAR
                    + "=log=info,report=" + home.resolve("sessionguard-report.json") + "\"\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        }
        // a management user for the redeploys over WildFly's HTTP management API (digest, ManagementRealm)
        Files.write(home.resolve("standalone/configuration/mgmt-users.properties"), ("\n" + MGMT_USER + "="
                + md5Hex(MGMT_USER + ":ManagementRealm:" + MGMT_PASSWORD) + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
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
            for (String jta : new String[] {"rollbackonly", "caughtfailure", "deadconn"}) {
                result.putAll(parse(ServerDist.get(base + "/orders/do/jta?case=" + jta, null)));
            }
            // the WAR redeployed with traffic between: the old deployments' module class loaders are collected
            long serverPid = server.descendants().filter(h -> h.info().command().orElse("").endsWith("java"))
                    .findFirst().orElseThrow(AssertionError::new).pid();
            result.put("loadersBefore", String.valueOf(moduleLoaders(serverPid)));
            int committed = 0;
            int retried = 0;
            for (int i = 0; i < REDEPLOYS; i++) {
                for (int k = 0; k < 3; k++) {
                    if (parse(ServerDist.get(base + "/orders/do/commit", null)).containsKey("committed")) {
                        committed++;
                    }
                }
                ServerDist.get(base + "/orders/do/cleanup", null);
                String outcome = redeploy(9990 + offset);
                if (outcome.contains("\"outcome\" : \"failed\"") && outcome.contains("\"failure-description\" : null")) {
                    // WildFly Core's service verification (ServiceVerificationHelper) rolls an operation back with no
                    // failure description when a problem it saw at stability has no text it writes (a dependency
                    // present but down, or one that cleared meanwhile); the rollback deploys the old version again,
                    // so the redeploy can be asked once more. Seen once in CI (1 of 20 redeploys, 320e073), not in 12
                    // local runs; the server's log of it is kept in the output and the retry is counted
                    System.out.println("WildFly " + VERSION + " (" + label + "): redeploy " + (i + 1) + " rolled back without a"
                            + " failure description; asked again. server.log, last lines:\n" + tail(home.resolve("standalone/log/server.log"), 60));
                    retried++;
                    outcome = redeploy(9990 + offset);
                }
                if (!outcome.contains("\"outcome\" : \"success\"")) {
                    // the server's own account of the failed redeploy (its answer alone may name no cause)
                    fail(label + ": redeploy " + (i + 1) + ": " + outcome + "\nserver.log, last lines:\n"
                            + tail(home.resolve("standalone/log/server.log"), 60));
                }
            }
            result.put("committed", String.valueOf(committed));
            result.put("redeploysAskedAgain", String.valueOf(retried));
            result.put("loadersAfter", String.valueOf(moduleLoaders(serverPid)));
            result.put("rowsAfterRedeploys", String.valueOf(ServerDist.rows(PG_URL, PG_USER, table)));
            // a container-managed transaction in flight when the server is told to stop: its insert done, it waits for
            // a row lock this test holds, which is let go once the server has logged the shutdown request
            try (Connection lock = DriverManager.getConnection(PG_URL, PG_USER, "")) {
                try (Statement st = lock.createStatement()) {
                    st.execute("create table " + table + "_lock (id int primary key)");
                    st.execute("insert into " + table + "_lock values (1)");
                }
                lock.setAutoCommit(false);
                try (Statement st = lock.createStatement()) {
                    st.executeQuery("select id from " + table + "_lock where id = 1 for update").close();
                }
                CompletableFuture<String> inFlight = CompletableFuture.supplyAsync(() -> {
                    try {
                        return ServerDist.get(base + "/orders/do/jta?case=inflight", null);
                    } catch (IOException e) {
                        return "jta.inflight.caller=" + e;
                    }
                });
                result.put("jta.inflight.waiting", String.valueOf(awaitBackends(
                        "select id from " + table + "_lock%' and wait_event_type = 'Lock", 1)));
                long stopping = System.nanoTime();
                server.destroy(); // SIGTERM, as a service manager stops it
                // its console goes quiet once the shutdown begins: the line is read from server.log
                result.put("jta.inflight.shutdownLogged", String.valueOf(awaitInFile(home.resolve("standalone/log/server.log"), "WFLYSRV0220")));
                lock.commit();
                result.putAll(parse(inFlight.get(120, TimeUnit.SECONDS)));
                boolean stopped = server.waitFor(60, TimeUnit.SECONDS);
                if (!stopped) {
                    // what the server is doing when it does not stop: its threads, kept beside its log
                    Path dump = home.resolveSibling("wildfly-" + label + "-not-stopping-threads.txt");
                    Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(),
                            String.valueOf(serverPid), "Thread.print").redirectErrorStream(true).redirectOutput(dump.toFile()).start();
                    p.waitFor(60, TimeUnit.SECONDS);
                    System.out.println("WildFly " + VERSION + " (" + label + ") had not stopped 60 s after SIGTERM; its threads: " + dump);
                    result.put("jta.inflight.notStoppingThreads", stoppingThreads(dump));
                    stopped = server.waitFor(60, TimeUnit.SECONDS);
                }
                result.put("jta.inflight.stopped", String.valueOf(stopped));
                result.put("jta.inflight.stopMs", String.valueOf(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping)));
                result.put("jta.inflight.rowsAfterStop", String.valueOf(ServerDist.rows(PG_URL, PG_USER, table) - committed));
                result.put("jta.inflight.backendsLeft", String.valueOf(awaitBackends("%" + table + "%", 0) ? 0 : backends("%" + table + "%")));
                try (Statement st = lock.createStatement()) {
                    st.execute("drop table " + table + "_lock");
                }
                lock.commit();
            }
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
            java.util.TreeSet<String> events = new java.util.TreeSet<>();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b((?:commit|rollback|close)\\.[a-zA-Z]+ reason=\\w+ at [\\w.$]+#\\w+)").matcher(all);
            while (m.find()) {
                events.add(m.group(1));
            }
            result.put("agentEvents", events.toString());
            Path report = home.resolve("sessionguard-report.json");
            String json = Files.exists(report) ? new String(Files.readAllBytes(report), StandardCharsets.UTF_8) : "";
            java.util.regex.Matcher swallowed = java.util.regex.Pattern.compile("\"rollback\\.swallowed\": (\\d+)").matcher(json);
            result.put("rollback.swallowed", swallowed.find() ? swallowed.group(1) : "none");
            java.util.regex.Matcher silent = java.util.regex.Pattern.compile("\"commit\\.silentRollback\": (\\d+)").matcher(json);
            result.put("commit.silentRollback", silent.find() ? silent.group(1) : "none");
            result.put("wovenHibernate", String.valueOf(json.contains("org.hibernate.internal.SessionImpl#")));
            result.put("report", json.replaceAll("\\s+", " "));
            result.put("linesInServerLog", String.valueOf(serverLog.contains("rollback.swallowed reason=closed at org.jboss.jca.adapters.jdbc.WrappedConnection#rollback")));
        }
        return result;
    }

    static final int REDEPLOYS = 20;
    static final String MGMT_USER = "sg";
    static final String MGMT_PASSWORD = "sg-13-redeploy";

    /** {@code redeploy} of orders.war through the HTTP management API (JSON, digest authentication); its answer. */
    private static String redeploy(int managementPort) throws IOException {
        java.net.Authenticator.setDefault(new java.net.Authenticator() {
            @Override
            protected java.net.PasswordAuthentication getPasswordAuthentication() {
                return new java.net.PasswordAuthentication(MGMT_USER, MGMT_PASSWORD.toCharArray());
            }
        });
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + managementPort + "/management").openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(120_000);
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        try (java.io.OutputStream o = c.getOutputStream()) {
            o.write("{\"operation\":\"redeploy\",\"address\":[{\"deployment\":\"orders.war\"}],\"json.pretty\":1}".getBytes(StandardCharsets.UTF_8));
        }
        try (InputStream in = c.getResponseCode() >= 400 ? c.getErrorStream() : c.getInputStream()) {
            return "HTTP " + c.getResponseCode() + " " + (in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static String tail(Path file, int lines) throws IOException {
        java.util.List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static String md5Hex(String s) throws Exception {
        StringBuilder b = new StringBuilder();
        for (byte x : java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8))) {
            b.append(String.format("%02x", x));
        }
        return b.toString();
    }

    /** JBoss Modules class loaders alive: a class histogram counts instances after a full GC (a few, until it settles). */
    private static long moduleLoaders(long pid) throws Exception {
        long last = -1;
        for (int i = 0; i < 5; i++) {
            Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            long n = 0;
            for (String l : out.split("\n")) {
                String[] f = l.trim().split("\\s+");
                if (f.length >= 4 && f[3].equals("org.jboss.modules.ModuleClassLoader")) {
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

    /**
     * From a thread dump of a server that does not stop: the threads that take part in stopping it (the JVM's
     * shutdown, JBoss MSC's service threads, the agent's), each with its first frames; at most 8,000 characters.
     */
    private static String stoppingThreads(Path dump) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String thread : new String(Files.readAllBytes(dump), StandardCharsets.UTF_8).split("\n\n")) {
            String first = thread.split("\n", 2)[0];
            if (first.contains("MSC service thread") || first.contains("DestroyJavaVM") || first.contains("Shutdown")
                    || first.contains("sessionguard") || thread.contains("java.lang.Shutdown") || thread.contains("dev.sessionguard")) {
                String[] lines = thread.split("\n");
                for (int i = 0; i < Math.min(lines.length, 10); i++) {
                    b.append(lines[i].trim()).append(" | ");
                }
                b.append(" ;; ");
            }
        }
        return b.length() > 8000 ? b.substring(0, 8000) : b.toString();
    }

    /** Backends of PostgreSQL whose last statement is like the pattern (a condition may follow it), still connected. */
    private static int backends(String like) throws Exception {
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, "");
             Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("select count(*) from pg_stat_activity where query like '" + like + "' and pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Waits (up to 60 s, polling PostgreSQL's own view) until as many backends match as asked. */
    private static boolean awaitBackends(String like, int n) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (backends(like) != n) {
            if (System.nanoTime() > until) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** Waits (up to 60 s, reading the file again every 50 ms) until the file holds the text. */
    private static boolean awaitInFile(Path file, String text) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!new String(Files.readAllBytes(file), StandardCharsets.UTF_8).contains(text)) {
            if (System.nanoTime() > until) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
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
        boolean jakarta = Integer.parseInt(VERSION.substring(0, VERSION.indexOf('.'))) >= 27; // jakarta from WildFly 27 on
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(war))) {
            for (String cls : new String[] {"dev/sessionguard/tomcat/OrdersServlet.class", "dev/sessionguard/tomcat/JtaOrders.class"}) {
                o.putNextEntry(new JarEntry("WEB-INF/classes/" + cls));
                o.write(Files.readAllBytes(Paths.get("target", "classes").resolve(cls)));
                o.closeEntry();
            }
            // the bean, its container-managed transactions and its EntityManager, declared without annotations
            o.putNextEntry(new JarEntry("WEB-INF/ejb-jar.xml"));
            o.write(((jakarta ? "<ejb-jar xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"4.0\">\n"
                            : "<ejb-jar xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.2\">\n")
                    + "  <enterprise-beans>\n    <session>\n      <ejb-name>JtaOrders</ejb-name>\n      <local-bean/>\n"
                    + "      <ejb-class>dev.sessionguard.tomcat.JtaOrders</ejb-class>\n      <session-type>Stateless</session-type>\n"
                    + "      <transaction-type>Container</transaction-type>\n"
                    + "      <persistence-context-ref>\n        <persistence-context-ref-name>persistence/orders</persistence-context-ref-name>\n"
                    + "        <persistence-unit-name>orders</persistence-unit-name>\n      </persistence-context-ref>\n"
                    + "    </session>\n  </enterprise-beans>\n  <assembly-descriptor>\n    <container-transaction>\n"
                    + "      <method><ejb-name>JtaOrders</ejb-name><method-name>*</method-name></method>\n"
                    + "      <trans-attribute>Required</trans-attribute>\n    </container-transaction>\n  </assembly-descriptor>\n"
                    + "</ejb-jar>\n").getBytes(StandardCharsets.UTF_8));
            o.closeEntry();
            o.putNextEntry(new JarEntry("WEB-INF/classes/META-INF/persistence.xml"));
            o.write(((jakarta ? "<persistence xmlns=\"https://jakarta.ee/xml/ns/persistence\" version=\"3.0\">\n"
                            : "<persistence xmlns=\"http://xmlns.jcp.org/xml/ns/persistence\" version=\"2.2\">\n")
                    + "  <persistence-unit name=\"orders\" transaction-type=\"JTA\">\n"
                    + "    <jta-data-source>java:jboss/datasources/OrdersDS</jta-data-source>\n"
                    + "    <exclude-unlisted-classes>true</exclude-unlisted-classes>\n  </persistence-unit>\n</persistence>\n")
                    .getBytes(StandardCharsets.UTF_8));
            o.closeEntry();
            o.putNextEntry(new JarEntry("WEB-INF/web.xml"));
            o.write(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    + (jakarta
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
