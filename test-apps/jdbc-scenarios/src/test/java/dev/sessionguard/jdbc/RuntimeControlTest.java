package dev.sessionguard.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Cli;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The agent's run-time control from its CLI, on a running JDBC service ({@link LiveJdbcApp}, embedded H2):
 * status over JMX, mode switched protect -> observe -> protect, detach (original bytecode back: the
 * service behaves exactly as without the agent), attach again. Each step is checked by what the service
 * itself sees on its next call.
 */
class RuntimeControlTest {

    static final String JAVA = Paths.get(System.getProperty("java.home"), "bin", "java").toString();

    /** A running service: commands on stdin, answers on stdout. */
    static final class Service implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final Writer in;
        final String pid;
        final File err;

        Service(boolean agent) throws Exception {
            this(agent, "", null);
        }

        /** With the agent's options (after log=info) and more JVM arguments (null: none). */
        Service(boolean agent, String options, String... jvmArgs) throws Exception {
            this(Fork.classpath(), agent, options, jvmArgs);
        }

        Service(String classpath, boolean agent, String options, String... jvmArgs) throws Exception {
            this(JAVA, classpath, agent, options, jvmArgs);
        }

        Service(String java, String classpath, boolean agent, String options, String... jvmArgs) throws Exception {
            List<String> cmd = new ArrayList<>(Arrays.asList(java, "-cp", classpath));
            if (jvmArgs != null) {
                cmd.addAll(Arrays.asList(jvmArgs));
            }
            if (agent) {
                cmd.add("-javaagent:" + Fork.AGENT_JAR + "=log=info" + (options.isEmpty() ? "" : "," + options));
            }
            cmd.add(LiveJdbcApp.class.getName());
            err = File.createTempFile("sg-live", ".err");
            process = new ProcessBuilder(cmd).redirectError(err).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("pid "), "first line: " + first + "; " + stderr());
            pid = first.substring(4);
        }

        String ask(String command) throws Exception {
            in.write(command + "\n");
            in.flush();
            String answer = out.readLine();
            assertTrue(answer != null, command + ": the service ended; " + stderr());
            return answer;
        }

        String stderr() throws Exception {
            return new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
        }

        private boolean closed;

        @Override
        public void close() throws Exception {
            if (closed) {
                return;
            }
            closed = true;
            try {
                in.write("exit\n");
                in.flush();
                process.waitFor(30, TimeUnit.SECONDS);
            } finally {
                process.destroyForcibly();
                err.delete();
            }
        }
    }

    static Cli cli(String... args) throws Exception {
        return Fork.cli(args);
    }

    static String line(String out, String start) {
        for (String l : out.split("\n")) {
            if (l.trim().startsWith(start)) {
                return l.trim();
            }
        }
        return "";
    }

    @Test
    void statusModeDetachAndAttachAgainOnARunningService() throws Exception {
        String plain;
        try (Service s = new Service(false)) {
            plain = s.ask("probe");
            assertTrue(plain.startsWith("probe org.h2.jdbc.") && plain.contains("already closed"),
                    "without the agent the rollback on a closed connection throws: " + plain);
            Cli status = cli("status", s.pid);
            assertEquals(1, status.exit, status.toString());
            assertTrue(status.out.contains("SessionGuard is not running in " + s.pid), status.toString());
        }
        try (Service s = new Service(true)) {
            assertEquals("probe none", s.ask("probe"), "with the agent the rollback is swallowed");
            // the MBean is registered off the class-loading thread once H2 was woven: wait for it, bounded
            assertEquals("mbean true", s.ask("await-mbean"), s.stderr());

            Cli status = cli("status", s.pid);
            assertEquals(0, status.exit, status.toString());
            assertTrue(status.out.contains("SessionGuard " ) && status.out.contains(" started in " + s.pid), status.toString());
            assertEquals("mode:          protect", line(status.out, "mode:"), status.toString());
            assertTrue(status.out.contains("org.h2.jdbc.JdbcConnection#rollback"), status.toString());
            assertEquals("rollback.swallowed     1  (closed 1)", line(status.out, "rollback.swallowed"), status.toString());

            Cli observe = cli("mode", s.pid, "observe");
            assertEquals(0, observe.exit, observe.toString());
            assertTrue(observe.out.contains("mode protect -> observe"), observe.toString());
            assertEquals(plain, s.ask("probe"), "observe mode changes nothing");
            status = cli("status", s.pid);
            assertEquals("mode:          observe", line(status.out, "mode:"), status.toString());
            assertEquals("rollback.swallowed     2  (closed 2)", line(status.out, "rollback.swallowed"), "observe still counts: " + status);

            Cli bad = cli("mode", s.pid, "bogus");
            assertEquals(2, bad.exit, bad.toString());
            assertTrue(bad.out.contains("mode must be one of protect, observe, off"), bad.toString());

            assertEquals(0, cli("mode", s.pid, "protect").exit);
            assertEquals("probe none", s.ask("probe"), "protect again");

            Cli detach = cli("detach", s.pid);
            assertEquals(0, detach.exit, detach.toString());
            assertEquals(plain, s.ask("probe"), "detached: the original bytecode, so the same as without the agent");
            status = cli("status", s.pid);
            assertEquals(1, status.exit, status.toString());
            assertTrue(status.out.contains("not running"), status.toString());
            assertTrue(s.stderr().contains("detached: "), s.stderr());

            Cli attach = cli("attach", s.pid);
            assertEquals(0, attach.exit, attach.toString());
            assertTrue(attach.out.contains("SessionGuard attached to " + s.pid), attach.toString());
            assertEquals("probe none", s.ask("probe"), "attached again: protected again");
            status = cli("status", s.pid);
            assertEquals(0, status.exit, status.toString());
            assertTrue(status.out.contains(" attached in " + s.pid), status.toString());
            // counters are totals since the JVM started: 1 (protect) + 1 (observe) + 1 (protect) + 1 (attached again)
            assertEquals("rollback.swallowed     4  (closed 4)", line(status.out, "rollback.swallowed"), status.toString());

            Cli again = cli("attach", s.pid);
            assertEquals(0, again.exit, again.toString());
            assertTrue(again.out.contains("already running"), again.toString());

            Cli list = cli("list");
            assertEquals(0, list.exit, list.toString());
            assertNotEquals("", line(list.out, s.pid + " "), "list names the service: " + list);
            assertTrue(line(list.out, s.pid + " ").contains("SessionGuard "), list.toString());
        }
    }

    /**
     * A service that never creates the platform MBean server (Spring Boot's default): the agent does not
     * create it at start-up either (about 350 JDK classes, 100 ms of CPU), its MBean waits (here longer than
     * the test runs: sessionguard.jmxDelayMs) for a server, which status's connection creates: status gets the
     * counters, and the service prints no warning (an agent loaded again at run time would make JDK 21+ print one).
     */
    @Test
    void withoutAPlatformMBeanServerTheAgentCreatesNoneAndStatusStillFindsItsMBean() throws Exception {
        File classes = File.createTempFile("sg-live", ".classes");
        // Druid's driver, on this module's class path for the pool matrix, creates the platform MBean server when
        // DriverManager loads it: this service goes without it
        StringBuilder cp = new StringBuilder();
        for (String e : Fork.classpath().split(File.pathSeparator)) {
            if (!e.contains("druid")) {
                cp.append(cp.length() == 0 ? "" : File.pathSeparator).append(e);
            }
        }
        // on the newest runtime where there is one: JDK 21+ would print a warning if the CLI loaded the agent again
        String java = Files.isExecutable(Paths.get(JdbcScenariosTest.JDK25, "bin", "java"))
                ? Paths.get(JdbcScenariosTest.JDK25, "bin", "java").toString() : JAVA;
        try (Service s = new Service(java, cp.toString(), true, "", "-Dlive.platformServer=false", "-Dsessionguard.jmxDelayMs=600000",
                "-Xlog:class+load=info:file=" + classes.getAbsolutePath())) {
            assertEquals("probe none", s.ask("probe"), "with the agent the rollback is swallowed");
            assertEquals("probe none", s.ask("probe"), "the first library class was woven before this: the MBean's thread runs");
            String loaded = new String(Files.readAllBytes(classes.toPath()), StandardCharsets.UTF_8);
            assertTrue(loaded.contains(" org.h2.jdbc.JdbcConnection "), "the class log is read: " + loaded.length());
            assertFalse(loaded.contains(" " + "com.sun.jmx.mbeanserver.JmxMBeanServer "), "no platform MBean server at start-up");

            Cli status = cli("status", s.pid);
            assertEquals(0, status.exit, status.toString());
            assertEquals("mode:          protect", line(status.out, "mode:"), status.toString());
            assertTrue(status.out.contains("org.h2.jdbc.JdbcConnection#rollback"), status.toString());
            assertEquals("rollback.swallowed     2  (closed 2)", line(status.out, "rollback.swallowed"), status.toString());
            assertEquals(0, cli("mode", s.pid, "observe").exit, "the MBean stays registered");
            assertFalse(s.stderr().contains("loaded dynamically") || s.stderr().contains("VM warning"), "no JVM warning: " + s.stderr());
        } finally {
            classes.delete();
        }
    }

    @Test
    void withJmxOffStatusSaysSoAndModeCannotBeSwitched() throws Exception {
        try (Service s = new Service(true, "jmx=off")) {
            assertEquals("probe none", s.ask("probe"));
            Cli status = cli("status", s.pid);
            assertEquals(0, status.exit, status.toString());
            assertTrue(status.out.contains("started with jmx=off"), status.toString());
            Cli mode = cli("mode", s.pid, "observe");
            assertEquals(1, mode.exit, mode.toString());
            assertTrue(mode.out.contains("MBean is not registered"), mode.toString());
            assertEquals("probe none", s.ask("probe"), "still protecting");
        }
    }
}
