package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The 10 concurrency edge cases of {@link Concurrency}, in forked JVMs: once without the agent, then
 * {@code sg.concurrency.reps} repetitions (default 2; scripts/repeat-concurrency.sh runs 20) with it. With
 * the agent every repetition must hold every invariant.
 *
 * <p>The agent runs with {@code silentRollback=throw}: when a factory closes under a statement, Hibernate
 * releases the connection mid-transaction and a later commit() returns normally having committed nothing.
 * With the default ({@code log}) the caller is not told, as without the agent, and the herd test holds the
 * agent to reporting every such loss at ERROR instead (commit.silentRollback).
 */
class ConcurrencyTest {

    static final String MAIN = "dev.sessionguard.scenarios.Concurrency";
    static final int REPS = Integer.getInteger("sg.concurrency.reps", 2);
    static final long SEED = Long.getLong("sg.seed", 20261128L);
    /** Where the failure shows without the agent every time; the others record what happened without it. */
    static final List<String> FAILS_WITHOUT_AGENT = Arrays.asList("leak", "race", "timeouts", "nested", "cascade", "order");

    private static Outcome run(String test, int reps, boolean agent, String options) throws Exception {
        String db = test.equals("growth") ? "h2" : "postgres";
        Outcome o = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN,
                new String[] {test, String.valueOf(reps), String.valueOf(SEED), db}, agent, options);
        assertEquals(0, o.exitCode, () -> Fork.tail(o.stderr));
        return o;
    }

    @ParameterizedTest(name = "concurrency: {0}")
    @ValueSource(strings = {"herd", "leak", "race", "interleaved", "timeouts", "nested", "exhaustion", "cascade", "growth", "order"})
    void concurrency(String test) throws Exception {
        int reps = REPS;
        Outcome plain = run(test, 1, false, "");
        Outcome agent = run(test, reps, true, "silentRollback=throw");
        assertEquals(reps + " of " + reps, agent.get("passed"), agent.get("firstFailure") + " (seed " + SEED + ")");
        assertEquals("0", agent.get("agentBusy"), "no session left marked busy");
        if (FAILS_WITHOUT_AGENT.contains(test)) {
            assertNotEquals("1 of 1", plain.get("passed"), "without the agent this case breaks something: " + plain);
        }
        String extra = "";
        if (test.equals("herd")) {
            // the default: the caller sees what it saw without the agent, and every lost order is reported
            Outcome logged = run(test, 1, true, "");
            long missing = Long.parseLong(logged.get("ackedMissingAllReps"));
            assertTrue(logged.event("commit.silentRollback") >= missing,
                    missing + " acknowledged orders missing, " + logged.event("commit.silentRollback") + " commit.silentRollback: " + logged);
            extra = "; with silentRollback=log: " + missing + " acknowledged but missing, "
                    + logged.event("commit.silentRollback") + " commit.silentRollback at ERROR";
        }
        if (test.equals("interleaved") || test.equals("growth")) {
            assertEquals(plain.get("passed"), agent.get("passed").replace(reps + " of " + reps, "1 of 1"), "the same outcome with and without");
        }
        Matrix.row("concurrency-matrix.md", "Hibernate | test | without the agent | with the agent",
                Fork.label(System.getProperty("sg.hibernate")), test, describe(test, plain),
                agent.get("passed") + " passed (seed " + SEED + "); " + describe(test, agent) + extra);
    }

    private static String describe(String test, Outcome o) {
        StringBuilder b = new StringBuilder(o.get("passed").equals("1 of 1") ? "held" : o.get("firstFailure"));
        for (String key : new String[] {"committed", "callersSaw", "commits", "cleanupsThrew", "leaks", "reads", "callers",
                "rows", "caller", "lostInterrupts", "retained", "state", "ms", "orders"}) {
            if (o.result.containsKey(key)) {
                b.append("; ").append(key).append(": ").append(o.get(key));
            }
        }
        return b.toString().replace('|', '/');
    }
}
