package dev.sessionguard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.sessionguard.testing.AppStorms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * legacy-h2 (Hibernate 5.6, HikariCP, embedded H2 1.4.200) under its storm (shutdownNow() on workers inside
 * transactions, then System.exit with a shutdown hook that closes the SessionFactory), in forked JVMs
 * without and with the agent, and its database read afterwards by {@link Verify} in a JVM of its own.
 * The storm is fixed by latches: the same every run, no seed. Then the same service under each storm of the
 * app kit ({@link LegacyH2Storms}).
 */
class LegacyH2Test {

    static final long SEED = Long.getLong("sg.seed", 20261128L);

    /**
     * storm, the catalogue failure that must show without the agent ("-" where none does: closing HikariCP
     * does not break an H2 connection, whose abort() is a no-op). "kill" does not apply to an embedded database.
     */
    @ParameterizedTest(name = "legacy-h2 {0}")
    @CsvSource({
        "shutdownNow, catalogue 3: an interrupted rollback on H2 1.4.200 closes the database for every connection",
        "cancel, catalogue 3: an interrupted rollback on H2 1.4.200 closes the database for every connection",
        "random, catalogue 3: an interrupted rollback on H2 1.4.200 closes the database for every connection",
        "exit, -",
        "poolclose, -",
    })
    void kitStorm(String storm, String failureWithout) throws Exception {
        AppStorms.check("legacy-h2", "dev.sessionguard.demo.LegacyH2Storms", "-", storm, failureWithout, SEED);
    }

    private static Map<String, String> run(boolean agent) throws Exception {
        Path dir = Fork.OUT.resolve(agent ? "legacy-h2-agent" : "legacy-h2-plain");
        if (Files.exists(dir)) {
            // a fresh database every run, as the demo has
            try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Outcome service = Fork.run(System.getProperty("java.home"), Fork.classpath(), "dev.sessionguard.demo.LegacyOrderService",
                new String[] {dir.toString()}, agent, "");
        assertEquals(0, service.exitCode, () -> Fork.tail(service.stderr));
        Outcome verify = Fork.run(System.getProperty("java.home"), Fork.classpath(), "dev.sessionguard.demo.Verify",
                new String[] {dir.toString()}, false, "");
        assertEquals(0, verify.exitCode, () -> Fork.tail(verify.stderr));
        Map<String, String> summary = new LinkedHashMap<>();
        for (String line : Files.readAllLines(dir.resolve("summary.txt"))) {
            int eq = line.indexOf('=');
            summary.put(line.substring(0, eq), line.substring(eq + 1));
        }
        long events = service.events.entrySet().stream().filter(e -> e.getKey().contains(".")).mapToLong(Map.Entry::getValue).sum();
        summary.put("agent events", String.valueOf(events));
        return summary;
    }

    @Test
    void storm() throws Exception {
        Map<String, String> plain = run(false);
        Map<String, String> agent = run(true);
        // catalogue 3: an interrupted commit or rollback on H2 1.4.200 closes the database for every connection
        assertTrue(plain.get("database usable at exit").startsWith("no"), () -> "without the agent H2 closes the database: " + plain);
        assertNotEquals("0", plain.get("exceptions escaping cleanup"), plain.toString());
        assertEquals("0", agent.get("exceptions escaping cleanup"), agent.toString());
        assertEquals("0", agent.get("acknowledged but missing"), agent.toString());
        assertEquals("0", agent.get("connections left checked out"), agent.toString());
        assertEquals("yes", agent.get("database usable at exit"), agent.toString());
        assertTrue(Long.parseLong(agent.get("agent events")) > 0, agent.toString());
        Matrix.row("app-matrix.md", "app | variant | storm | without the agent | with the agent | agent events",
                "legacy-h2", "-", "shutdownNow, then System.exit", plain.toString().replace('|', '/'),
                agent.toString().replace('|', '/'), agent.get("agent events"));
    }
}
