package dev.sessionguard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork.Outcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One legacy app under one storm, in forked JVMs without and with the agent, held to what a user of the
 * agent is promised: nothing escapes cleanup, every acknowledged order is in the database, no connection is
 * left checked out, the database answers, and the agent's report lists what it did. Without the agent, the
 * failure the test names must show ({@code "-"} where this app, driver and storm produce none).
 * Appends both outcomes to target/app-matrix.md.
 */
public final class AppStorms {

    private AppStorms() {
    }

    public static void check(String app, String mainClass, String variant, String storm, String failureWithout, long seed)
            throws Exception {
        Outcome plain = run(app, mainClass, variant, storm, false, seed);
        Outcome agent = run(app, mainClass, variant, storm, true, seed);
        assertProtected(agent);
        if (!failureWithout.equals("-")) {
            assertTrue(failed(plain), () -> failureWithout + " should show without the agent: " + plain.result);
            assertTrue(!events(agent).equals("none"), () -> "the agent's report lists what it did: " + agent.events);
        }
        Matrix.row("app-matrix.md", "app | variant | storm | without the agent | with the agent | agent events",
                app, variant, storm, summary(plain), summary(agent), events(agent));
    }

    /** What a user of the agent is promised after a storm: nothing escapes cleanup, nothing acknowledged is missing, no connection checked out, the database answers. */
    public static void assertProtected(Outcome agent) {
        assertEquals("0", agent.get("escapedCleanup"), () -> "with the agent nothing escapes cleanup: " + agent.result);
        assertEquals("0", agent.get("ackedMissing"), () -> "every acknowledged order is in the database: " + agent.result);
        assertTrue(agent.get("checkedOut").startsWith("0"), () -> "no connection left checked out: " + agent.result);
        assertEquals("yes", agent.get("usable"), () -> agent.result.toString());
    }

    /** Whether a storm's outcome shows one of the failures the agent exists for. */
    public static boolean failed(Outcome o) {
        return !o.get("escapedCleanup").equals("0") || !o.get("ackedMissing").equals("0")
                || !o.get("checkedOut").startsWith("0") || !o.get("usable").equals("yes");
    }

    private static Outcome run(String app, String mainClass, String variant, String storm, boolean agent, long seed)
            throws Exception {
        return run(app, mainClass, variant, storm, agent, seed, "", java.util.Collections.<String>emptyList(),
                java.util.Collections.<String>emptyList());
    }

    /**
     * One run of the app under a storm, with JVM options before and after SessionGuard's -javaagent ({@code label}
     * names the combination in the output directory).
     */
    public static Outcome run(String app, String mainClass, String variant, String storm, boolean agent, long seed,
                              String label, List<String> jvmBefore, List<String> jvmAfter) throws Exception {
        String dir = Fork.OUT.resolve(app + "-" + variant + "-" + storm + label + (agent ? "-agent" : "-plain")).toString();
        List<String> args = new ArrayList<>(Arrays.asList(dir));
        if (!variant.isEmpty() && !variant.equals("-")) {
            args.add(variant);
        }
        args.add(storm);
        args.add(String.valueOf(seed));
        Outcome o = Fork.run(System.getProperty("java.home"), Fork.classpath(), mainClass, args.toArray(new String[0]), agent, "",
                jvmBefore, jvmAfter);
        assertEquals(0, o.exitCode, () -> Fork.tail(o.stderr));
        assertTrue(o.result.containsKey("acknowledged"), () -> "no summary (seed " + seed + "): " + Fork.tail(o.stdout) + Fork.tail(o.stderr));
        return o;
    }

    /** The agent's events in one line ("none" when it counted nothing). */
    public static String events(Outcome o) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Long> e : o.events.entrySet()) {
            if (e.getKey().contains(".") && e.getValue() > 0) {
                b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
            }
        }
        return b.length() == 0 ? "none" : b.toString();
    }

    /** One storm's outcome in one line, for a matrix cell. */
    public static String summary(Outcome o) {
        return ("acknowledged " + o.get("acknowledged") + ", rows " + o.get("rowsFound") + ", missing " + o.get("ackedMissing")
                + ", escaped cleanup " + o.get("escapedCleanup") + " " + o.get("escapedByClass")
                + ", checked out " + o.get("checkedOut") + ", usable " + o.get("usable") + ", callers saw " + o.get("callersSaw"))
                .replace('|', '/');
    }
}
