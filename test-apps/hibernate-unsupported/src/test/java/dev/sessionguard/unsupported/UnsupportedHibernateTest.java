package dev.sessionguard.unsupported;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * Per-version gating at run time: a service on Hibernate 5.1 (before the 5.2 API the advice uses) with the
 * agent. Hibernate is left as it is, one WARN line per class saying why; the H2 driver below it is still
 * guarded; the service sees exactly what it sees without the agent and ends normally.
 */
class UnsupportedHibernateTest {

    static final String MAIN = "dev.sessionguard.unsupported.OldHibernateService";

    @Test
    void hibernate51IsLeftAloneWithOneLinePerClassAndTheServiceRunsAsWithout() throws Exception {
        Outcome plain = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN, new String[0], false, "");
        Outcome agent = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN, new String[0], true, "");
        assertEquals(0, plain.exitCode, plain.stderr);
        assertEquals(0, agent.exitCode, agent.stderr);
        assertEquals(plain.result, agent.result, "the service sees what it sees without the agent");
        assertEquals("1", agent.get("rows"));
        String need = " uninstrumented: the advice needs org.hibernate.engine.spi.SharedSessionContractImplementor,"
                + " which this version does not have (unsupported library version)";
        leftAloneDriverGuarded(agent, "left org.hibernate.internal.SessionImpl" + need,
                "left org.hibernate.engine.transaction.internal.TransactionImpl" + need);
        Matrix.row("gating-matrix.md", "library | without the agent | with the agent",
                "Hibernate 5.1.17.Final (unsupported)", plain.result.toString(),
                plain.result.equals(agent.result) ? "identical; Hibernate left alone (1 WARN per class), H2 JdbcConnection guarded" : agent.result.toString());
    }

    /**
     * Hibernate 5.2.18, whose TransactionImpl keeps no field "session" (5.3 added it): until the advice bound the
     * session per version (TransactionSession), TransactionImpl did not fit and the library was left alone whole.
     * Now both classes are woven, with no WARN line, and the service's cleanup (a rollback and a close after
     * commit and close) no longer throws; the row and the driver are as without the agent. The protection
     * scenarios on 5.2 run in ../hibernate-5.2.
     */
    @Test
    void hibernate52IsWovenWhole() throws Exception {
        String cp = Fork.classpath();
        java.io.File[] jars = new java.io.File("target/hibernate-5.2").listFiles((d, n) -> n.startsWith("hibernate-core-5.2."));
        assertTrue(jars != null && jars.length == 1, "target/hibernate-5.2 holds the 5.2 jar (mvn generate-resources)");
        String swapped = cp.replaceAll("[^" + java.io.File.pathSeparator + "]*hibernate-core-5\\.1\\.[^" + java.io.File.pathSeparator + "]*\\.jar",
                java.util.regex.Matcher.quoteReplacement(jars[0].getAbsolutePath()));
        assertFalse(swapped.equals(cp), "the 5.1 jar was swapped out");
        Outcome plain = Fork.run(Fork.JAVA_HOME, swapped, MAIN, new String[] {"5.2"}, false, "");
        Outcome agent = Fork.run(Fork.JAVA_HOME, swapped, MAIN, new String[] {"5.2"}, true, "");
        assertEquals(0, plain.exitCode, plain.stderr);
        assertEquals(0, agent.exitCode, agent.stderr);
        assertEquals("1", plain.get("rows"));
        assertEquals("1", agent.get("rows"));
        assertFalse("none".equals(plain.get("cleanupRollback")), "without the agent 5.2's rollback after close throws: " + plain.result);
        assertEquals("none", agent.get("cleanupRollback"), agent.stderr);
        assertEquals("none", agent.get("cleanupClose"), agent.stderr);
        assertFalse(agent.stderr.contains("uninstrumented"), agent.stderr);
        String report = new String(Files.readAllBytes(Fork.OUT.resolve(agent.name).resolve("report.json")), StandardCharsets.UTF_8);
        for (String m : new String[] {"org.hibernate.internal.SessionImpl#close",
                "org.hibernate.engine.transaction.internal.TransactionImpl#rollback",
                "org.hibernate.engine.transaction.internal.TransactionImpl#commit"}) {
            assertTrue(report.contains("\"" + m + "\""), m + " woven: " + report);
        }
        Matrix.row("gating-matrix.md", "library | without the agent | with the agent",
                "Hibernate 5.2.18.Final (no TransactionImpl.session)", plain.result.toString(),
                "woven whole (SessionImpl and TransactionImpl, no WARN); " + agent.result);
    }

    /** Each line once in the agent's log; nothing of Hibernate in its report, the H2 driver below in it. */
    private static void leftAloneDriverGuarded(Outcome agent, String... lines) throws java.io.IOException {
        for (String line : lines) {
            assertEquals(1, agent.stderr.split(java.util.regex.Pattern.quote(line), -1).length - 1, "once: " + line + "\n" + agent.stderr);
        }
        String report = new String(Files.readAllBytes(Fork.OUT.resolve(agent.name).resolve("report.json")), StandardCharsets.UTF_8);
        assertTrue(report.contains("\"org.h2.jdbc.JdbcConnection#rollback\""), "the driver below is still guarded: " + report);
        assertFalse(report.contains("org.hibernate."), "nothing of Hibernate woven, not half of it: " + report);
    }
}
