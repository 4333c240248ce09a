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
        for (String cls : new String[] {"org.hibernate.internal.SessionImpl", "org.hibernate.engine.transaction.internal.TransactionImpl"}) {
            String line = "left " + cls + " uninstrumented: the advice needs org.hibernate.engine.spi.SharedSessionContractImplementor,"
                    + " which this version does not have (unsupported library version)";
            assertEquals(1, agent.stderr.split(java.util.regex.Pattern.quote(line), -1).length - 1, "one WARN line for " + cls + ":\n" + agent.stderr);
        }
        String report = new String(Files.readAllBytes(Fork.OUT.resolve(agent.name).resolve("report.json")), StandardCharsets.UTF_8);
        assertTrue(report.contains("\"org.h2.jdbc.JdbcConnection#rollback\""), "the driver below is still guarded: " + report);
        assertFalse(report.contains("org.hibernate."), "nothing of Hibernate 5.1 woven: " + report);
        Matrix.row("gating-matrix.md", "library | without the agent | with the agent",
                "Hibernate 5.1.17.Final (unsupported)", plain.result.toString(),
                plain.result.equals(agent.result) ? "identical; Hibernate left alone (1 WARN per class), H2 JdbcConnection guarded" : agent.result.toString());
    }
}
