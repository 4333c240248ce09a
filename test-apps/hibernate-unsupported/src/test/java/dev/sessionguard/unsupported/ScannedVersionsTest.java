package dev.sessionguard.unsupported;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Matrix;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hibernate versions the scenario modules do not run (those run 5.1, 5.2, 5.3, 5.4, 5.6, 6.2, 6.4, 6.6 and 7.4):
 * {@code scan} of each real jar, with the jars its SessionImpl and TransactionImpl refer to, says what the
 * agent would do. 4.3 predates the API both advice versions use: left alone with the reasons, nothing woven; 5.0
 * is woven whole by the advice for 5.0/5.1, every 6.x and 7.x by the newest (SessionImpl and TransactionImpl both,
 * the reference check passed).
 */
class ScannedVersionsTest {

    @ParameterizedTest(name = "Hibernate {0}")
    @ValueSource(strings = {"4.3", "5.0", "6.0", "6.1", "6.3", "6.5", "7.0", "7.1", "7.2", "7.3"})
    void scanSaysWhatTheAgentWouldDo(String version) throws Exception {
        File[] jars = new File("target/hibernate-versions/" + version).listFiles((d, n) -> n.endsWith(".jar"));
        assertTrue(jars != null && jars.length > 0, "target/hibernate-versions/" + version + " (mvn generate-resources)");
        Arrays.sort(jars);
        List<String> args = new ArrayList<>();
        args.add("scan");
        String core = null;
        for (File j : jars) {
            args.add(j.getPath());
            if (j.getName().startsWith("hibernate-core-")) {
                core = j.getName().replace(".jar", "");
            }
        }
        Fork.Cli scan = Fork.cli(args.toArray(new String[0]));
        assertEquals(0, scan.exit, scan.out);
        assertFalse(scan.out.contains("not checked"), "every class the advice needs was scanned: " + scan.out);
        String outcome;
        if (version.startsWith("4.")) {
            // 4.x: no TransactionImpl, and its SessionImpl fits neither the advice for 5.2 on nor the one for 5.0/5.1
            String why = "the advice needs org.hibernate.engine.spi.SharedSessionContractImplementor, which this version does not have"
                    + " (unsupported library version); nor does the advice for older versions: the advice needs"
                    + " org.hibernate.resource.transaction.TransactionCoordinator, which this version does not have";
            assertTrue(scan.out.contains("left as is: org.hibernate.internal.SessionImpl: " + why), scan.out);
            assertTrue(scan.out.contains("0 classes would be woven"), scan.out);
            outcome = "left alone whole: no TransactionImpl (4.x transactions are JdbcTransaction, JtaTransaction);"
                    + " SessionImpl fits neither advice (no SharedSessionContractImplementor, no org.hibernate.resource.transaction.TransactionCoordinator)";
        } else {
            assertTrue(scan.out.contains("woven:     org.hibernate.engine.transaction.internal.TransactionImpl#rollback, #commit"), scan.out);
            assertTrue(scan.out.contains("woven:     org.hibernate.internal.SessionImpl#close, #flush"), scan.out);
            assertTrue(scan.out.contains("2 classes would be woven, 0 left as they are;"), scan.out);
            outcome = "woven whole: SessionImpl#close, #flush; TransactionImpl#rollback, #commit"
                    + (version.startsWith("5.") ? " (the advice for 5.0/5.1)" : "");
        }
        Matrix.row("scanned-versions.md", "library | scan: what the agent would do | scenarios", core, outcome,
                "not run on this version (the scenario modules run 5.1, 5.2, 5.3, 5.4, 5.6, 6.2, 6.4, 6.6, 7.4)");
    }
}
