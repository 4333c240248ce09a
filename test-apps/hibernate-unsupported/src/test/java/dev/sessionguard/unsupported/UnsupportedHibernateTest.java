package dev.sessionguard.unsupported;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * Per-version gating at run time, on one legacy service whose Hibernate jar is swapped: 4.3 (its own transaction
 * classes, before the 5.0 API the oldest advice uses) is left as it is, one WARN line per class saying why, the
 * H2 driver below it still guarded, the service seeing exactly what it sees without the agent. 5.1 (the older
 * advice, Session50/Transaction50Instrumentation) and 5.2 (no TransactionImpl.session) are woven whole.
 */
class UnsupportedHibernateTest {

    static final String MAIN = "dev.sessionguard.unsupported.OldHibernateService";

    /** The module's class path with its Hibernate 5.1 jar replaced by the one in {@code dir}. */
    private static String withHibernate(String dir, String prefix) throws java.io.IOException {
        String cp = Fork.classpath();
        java.io.File[] jars = new java.io.File(dir).listFiles((d, n) -> n.startsWith(prefix));
        assertTrue(jars != null && jars.length == 1, dir + " holds the " + prefix + " jar (mvn generate-resources)");
        String swapped = cp.replaceAll("[^" + java.io.File.pathSeparator + "]*hibernate-core-5\\.1\\.[^" + java.io.File.pathSeparator + "]*\\.jar",
                java.util.regex.Matcher.quoteReplacement(jars[0].getAbsolutePath()));
        assertFalse(swapped.equals(cp), "the 5.1 jar was swapped out");
        return swapped;
    }

    /**
     * Hibernate 4.3.11 (the advice for 4.x: AbstractTransactionImpl), 5.1.17 (the advice for 5.0 and 5.1) and 5.2.18
     * (whose TransactionImpl keeps no field "session"; 5.3 added it): both classes are woven, with no WARN line, and
     * the service's cleanup (a rollback and a close after commit and close) no longer throws; the row and the driver
     * are as without the agent. The protection scenarios on these versions run in ../hibernate-4.3, -5.1 and -5.2.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "Hibernate {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"4.3", "5.1", "5.2"})
    void isWovenWhole(String version) throws Exception {
        String cp = "5.1".equals(version) ? Fork.classpath()
                : "4.3".equals(version) ? withHibernate("target/hibernate-versions/4.3", "hibernate-core-4.3.")
                : withHibernate("target/hibernate-5.2", "hibernate-core-5.2.");
        String transaction = "4.3".equals(version) ? "org.hibernate.engine.transaction.spi.AbstractTransactionImpl"
                : "org.hibernate.engine.transaction.internal.TransactionImpl";
        Outcome plain = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {version}, false, "");
        Outcome agent = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {version}, true, "");
        assertEquals(0, plain.exitCode, plain.stderr);
        assertEquals(0, agent.exitCode, agent.stderr);
        assertEquals("1", plain.get("rows"));
        assertEquals("1", agent.get("rows"));
        assertFalse("none".equals(plain.get("cleanupRollback")), "without the agent " + version + "'s rollback after close throws: " + plain.result);
        assertEquals("none", agent.get("cleanupRollback"), agent.stderr);
        assertEquals("none", agent.get("cleanupClose"), agent.stderr);
        assertFalse(agent.stderr.contains("uninstrumented"), agent.stderr);
        String report = new String(Files.readAllBytes(Fork.OUT.resolve(agent.name).resolve("report.json")), StandardCharsets.UTF_8);
        for (String m : new String[] {"org.hibernate.internal.SessionImpl#close", transaction + "#rollback", transaction + "#commit"}) {
            assertTrue(report.contains("\"" + m + "\""), m + " woven: " + report);
        }
        Matrix.row("gating-matrix.md", "library | without the agent | with the agent",
                "4.3".equals(version) ? "Hibernate 4.3.11.Final (the 4.x advice: AbstractTransactionImpl)"
                        : "5.1".equals(version) ? "Hibernate 5.1.17.Final (the 5.0/5.1 advice)" : "Hibernate 5.2.18.Final (no TransactionImpl.session)",
                plain.result.toString(), "woven whole (SessionImpl and " + transaction.substring(transaction.lastIndexOf('.') + 1)
                        + ", no WARN); " + agent.result);
    }

}
