package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Matrix;
import dev.sessionguard.testing.Fork.Outcome;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The 10 cancellation stress tests on embedded H2 (file, durable commits), in forked JVMs: once without
 * the agent, then {@code sg.cancellation.reps} repetitions (default 3; scripts/repeat-cancellations.sh
 * runs 20) with it. With the agent every repetition must hold every invariant of {@link Cancellations}.
 */
class CancellationsTest {

    static final String MAIN = "dev.sessionguard.scenarios.Cancellations";
    static final int REPS = Integer.getInteger("sg.cancellation.reps", 3);
    static final long SEED = Long.getLong("sg.seed", 20261128L);
    /**
     * One task, one interrupted write: the failure must show without the agent. Where several tasks write
     * at once, whether H2 still has unsaved pages when the interrupted thread commits or rolls back depends
     * on their interleaving; those tests record what happened without the agent and assert only with it.
     */
    /**
     * These tests hold a shielded call open until the test's thread has sent its cancel (a hook inside commit or
     * rollback waits for it). With the default shieldMaxMs (2 s) a CI machine that stalls the test's thread that
     * long makes the deadline deliver the interrupt inside the call, as designed, and H2 then closes its file
     * (shieldMaxMs=1 shows it at once): these tests are of the shield, the deadline has its own
     * (InterruptShieldTest.anInterruptHeldBackTooLongIsDeliveredAtTheDeadline, the jdbc scenario slowcommit).
     */
    static final String AGENT_OPTIONS = "shieldMaxMs=60000";
    static final List<String> FAILS_WITHOUT_AGENT = Arrays.asList("immediate", "commit", "rollback");

    @ParameterizedTest(name = "cancellation: {0}")
    @ValueSource(strings = {"immediate", "commit", "rollback", "cascade", "random", "cleanup", "growth", "h2", "reuse", "partial"})
    void cancellation(String test) throws Exception {
        int reps = test.equals("growth") ? 1 : REPS;
        Outcome plain = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN,
                new String[] {test, "1", String.valueOf(SEED)}, false, "");
        Outcome agent = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN,
                new String[] {test, String.valueOf(reps), String.valueOf(SEED)}, true, AGENT_OPTIONS);
        assertEquals(reps + " of " + reps, agent.get("passed"), () -> test + ": " + agent.get("firstFailure") + " (seed " + SEED + ")\n"
                + diagnosis(agent));
        if (FAILS_WITHOUT_AGENT.contains(test)) {
            assertNotEquals("1 of 1", plain.get("passed"), "without the agent this cancellation breaks something: " + plain);
        }
        Matrix.row("cancellation-matrix.md", "Hibernate | test | without the agent | with the agent",
                Fork.label(System.getProperty("sg.hibernate")), test, plain.get("passed") + ": " + plain.get("firstFailure"),
                agent.get("passed") + " passed (seed " + SEED + ")");
    }

    /**
     * What the agent's run said of itself, for a failure that shows only on another machine: its events, its
     * WARN/ERROR lines and the causes under them (the first I/O failure names the thread and call that closed
     * H2's file), and where the whole output is kept.
     */
    static String diagnosis(Outcome o) {
        StringBuilder b = new StringBuilder(o.toString()).append('\n');
        List<String> warnings = o.agentWarnings();
        warnings.stream().limit(12).forEach(w -> b.append("  ").append(w).append('\n'));
        if (warnings.size() > 12) {
            b.append("  ... ").append(warnings.size() - 12).append(" more\n");
        }
        Arrays.stream(o.stderr.split("\n")).filter(l -> l.startsWith("Caused by: java.nio") || l.startsWith("Caused by: java.io"))
                .distinct().limit(6).forEach(l -> b.append("  ").append(l).append('\n'));
        return b.append("  output: target/scenarios/").append(o.name).toString();
    }
}
