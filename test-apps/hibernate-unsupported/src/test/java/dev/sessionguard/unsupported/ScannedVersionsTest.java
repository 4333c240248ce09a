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
 * Hibernate versions the scenario modules do not run (those run 4.3, 5.1, 5.2, 5.3, 5.4, 5.6, 6.2, 6.4, 6.6 and 7.4):
 * {@code scan} of each real jar, with the jars its SessionImpl and TransactionImpl refer to, says what the
 * agent would do: 4.2 is woven whole by the advice for 4.x (SessionImpl and AbstractTransactionImpl), 5.0 by the
 * advice for 5.0/5.1, every 6.x and 7.x by the newest (SessionImpl and TransactionImpl both, the reference check
 * passed). 4.3, 5.1 and the rest run the scenarios.
 */
class ScannedVersionsTest {

    @ParameterizedTest(name = "Hibernate {0}")
    @ValueSource(strings = {"4.2", "5.0", "6.0", "6.1", "6.3", "6.5", "7.0", "7.1", "7.2", "7.3"})
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
        // 4.x: AbstractTransactionImpl (the advice for 4.x); 5.0: TransactionImpl by the advice for 5.0/5.1; 6.x, 7.x: the newest
        String transaction = version.startsWith("4.") ? "org.hibernate.engine.transaction.spi.AbstractTransactionImpl"
                : "org.hibernate.engine.transaction.internal.TransactionImpl";
        assertTrue(scan.out.contains("woven:     " + transaction + "#rollback, #commit"), scan.out);
        assertTrue(scan.out.contains("woven:     org.hibernate.internal.SessionImpl#close, #flush"), scan.out);
        // 5.x on: Hibernate's JTA coordinator too (the JTA form of commit.silentRollback); 4.x has none of that name
        boolean jta = !version.startsWith("4.");
        assertEquals(jta, scan.out.contains(
                "woven:     org.hibernate.resource.transaction.backend.jta.internal.JtaTransactionCoordinatorImpl#beforeCompletion"), scan.out);
        assertTrue(scan.out.contains((jta ? 3 : 2) + " classes would be woven, 0 left as they are;"), scan.out);
        String outcome = "woven whole: SessionImpl#close, #flush; " + transaction.substring(transaction.lastIndexOf('.') + 1)
                + "#rollback, #commit" + (version.startsWith("4.") ? " (the advice for 4.x)" : version.startsWith("5.") ? " (the advice for 5.0/5.1)" : "");
        Matrix.row("scanned-versions.md", "library | scan: what the agent would do | scenarios", core, outcome,
                version.startsWith("4.") ? "not run (4.0 to 4.2: scanned only; the scenario modules run 4.3, 5.1 to 5.6, 6.2, 6.4, 6.6, 7.4)"
                        : "not run in CI; scripts/hibernate-versions.sh runs the protection scenarios and Envers on " + version
                        + (version.equals("7.0") ? ".0" : version.equals("7.3") ? ".2" : " (the same patch)"));
    }
}
