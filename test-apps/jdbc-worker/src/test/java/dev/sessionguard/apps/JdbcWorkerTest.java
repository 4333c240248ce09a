package dev.sessionguard.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The jdbc-worker app (plain JDBC, DBCP2 or c3p0, MariaDB) under every storm, in forked JVMs without and
 * with the agent. With the agent: no exception escapes cleanup, every acknowledged order is in the
 * database, no connection is left checked out, the database answers. Without it, where the storm produces a
 * failure of the catalogue, the test names it and requires it to show.
 */
class JdbcWorkerTest {

    static final String MAIN = "dev.sessionguard.apps.JdbcWorker";
    static final long SEED = Long.getLong("sg.seed", 20261128L);

    private static Outcome run(String pool, String storm, boolean agent) throws Exception {
        String dir = Fork.OUT.resolve("jdbc-worker-" + pool + "-" + storm + (agent ? "-agent" : "-plain")).toString();
        Outcome o = Fork.run(System.getProperty("java.home"), Fork.classpath(), MAIN,
                new String[] {dir, pool, storm, String.valueOf(SEED)}, agent, "");
        assertEquals(0, o.exitCode, () -> Fork.tail(o.stderr));
        assertTrue(o.result.containsKey("acknowledged"), () -> "no summary: " + Fork.tail(o.stdout) + Fork.tail(o.stderr));
        return o;
    }

    /**
     * pool, storm, the catalogue failure that must show without the agent ("-" where none does on this
     * driver: MariaDB Connector/J ignores interrupts on platform threads, DBCP2 leaves checked-out
     * connections alone when it closes).
     */
    @ParameterizedTest(name = "jdbc-worker {0} {1}")
    @CsvSource({
        "dbcp2, kill, rollback on a killed connection throws from cleanup (catalogue 3: MariaDB Connection is closed)",
        "c3p0, kill, rollback on a killed connection throws from cleanup (catalogue 3: MariaDB Connection is closed)",
        "dbcp2, poolclose, -",
        "c3p0, poolclose, rollback after the pool closed throws from cleanup (catalogue 3: pool closed under workers)",
        "dbcp2, cancel, -",
        "c3p0, cancel, -",
        "dbcp2, exit, -",
        "c3p0, exit, rollback during shutdown throws from cleanup (catalogue 3: pool closed by the shutdown hook)",
        "dbcp2, random, rollback on a killed connection throws from cleanup (catalogue 3)",
        "c3p0, random, rollback on a killed connection throws from cleanup (catalogue 3)",
    })
    void storm(String pool, String storm, String failureWithout) throws Exception {
        Outcome plain = run(pool, storm, false);
        Outcome agent = run(pool, storm, true);
        assertEquals("0", agent.get("escapedCleanup"), () -> "with the agent nothing escapes cleanup: " + agent.result);
        assertEquals("0", agent.get("ackedMissing"), () -> "every acknowledged order is in the database: " + agent.result);
        assertTrue(agent.get("checkedOut").startsWith("0"), () -> "no connection left checked out: " + agent.result);
        assertEquals("yes", agent.get("usable"));
        if (!failureWithout.equals("-")) {
            assertTrue(!plain.get("escapedCleanup").equals("0"), () -> failureWithout + " should show without the agent: " + plain.result);
            long events = agent.events.entrySet().stream().filter(e -> e.getKey().contains("."))
                    .mapToLong(java.util.Map.Entry::getValue).sum();
            assertTrue(events > 0, () -> "the agent's report lists what it did: " + agent.events);
        }
        Matrix.row("app-matrix.md", "app | pool | storm | without the agent | with the agent | agent events",
                "jdbc-worker", pool, storm, summary(plain), summary(agent), events(agent));
    }

    private static String events(Outcome o) {
        StringBuilder b = new StringBuilder();
        o.events.forEach((k, v) -> {
            if (k.contains(".") && v > 0) {
                b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v);
            }
        });
        return b.length() == 0 ? "none" : b.toString();
    }

    private static String summary(Outcome o) {
        return "acknowledged " + o.get("acknowledged") + ", rows " + o.get("rowsFound") + ", missing " + o.get("ackedMissing")
                + ", escaped cleanup " + o.get("escapedCleanup") + " " + o.get("escapedByClass")
                + ", checked out " + o.get("checkedOut") + ", usable " + o.get("usable") + ", callers saw " + o.get("callersSaw");
    }
}
