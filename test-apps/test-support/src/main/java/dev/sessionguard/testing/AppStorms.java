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
        assertEquals("0", agent.get("escapedCleanup"), () -> "with the agent nothing escapes cleanup: " + agent.result);
        assertEquals("0", agent.get("ackedMissing"), () -> "every acknowledged order is in the database: " + agent.result);
        assertTrue(agent.get("checkedOut").startsWith("0"), () -> "no connection left checked out: " + agent.result);
        assertEquals("yes", agent.get("usable"), () -> agent.result.toString());
        if (!failureWithout.equals("-")) {
            assertTrue(!plain.get("escapedCleanup").equals("0") || !plain.get("ackedMissing").equals("0")
                            || !plain.get("checkedOut").startsWith("0") || !plain.get("usable").equals("yes"),
                    () -> failureWithout + " should show without the agent: " + plain.result);
            assertTrue(!events(agent).equals("none"), () -> "the agent's report lists what it did: " + agent.events);
        }
        Matrix.row("app-matrix.md", "app | variant | storm | without the agent | with the agent | agent events",
                app, variant, storm, summary(plain), summary(agent), events(agent));
    }

    private static Outcome run(String app, String mainClass, String variant, String storm, boolean agent, long seed)
            throws Exception {
        String dir = Fork.OUT.resolve(app + "-" + variant + "-" + storm + (agent ? "-agent" : "-plain")).toString();
        List<String> args = new ArrayList<>(Arrays.asList(dir));
        if (!variant.isEmpty() && !variant.equals("-")) {
            args.add(variant);
        }
        args.add(storm);
        args.add(String.valueOf(seed));
        Outcome o = Fork.run(System.getProperty("java.home"), Fork.classpath(), mainClass, args.toArray(new String[0]), agent, "");
        assertEquals(0, o.exitCode, () -> Fork.tail(o.stderr));
        assertTrue(o.result.containsKey("acknowledged"), () -> "no summary (seed " + seed + "): " + Fork.tail(o.stdout) + Fork.tail(o.stderr));
        return o;
    }

    private static String events(Outcome o) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Long> e : o.events.entrySet()) {
            if (e.getKey().contains(".") && e.getValue() > 0) {
                b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
            }
        }
        return b.length() == 0 ? "none" : b.toString();
    }

    private static String summary(Outcome o) {
        return ("acknowledged " + o.get("acknowledged") + ", rows " + o.get("rowsFound") + ", missing " + o.get("ackedMissing")
                + ", escaped cleanup " + o.get("escapedCleanup") + " " + o.get("escapedByClass")
                + ", checked out " + o.get("checkedOut") + ", usable " + o.get("usable") + ", callers saw " + o.get("callersSaw"))
                .replace('|', '/');
    }
}
