package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Modes and logging, on scenario 3 (rollback after the session was closed under it), on H2. */
class AgentModesTest {

    static final String MAIN = "dev.sessionguard.scenarios.Scenarios";

    static final boolean APP_HAS_SLF4J_BINDING = "6.6".equals(System.getProperty("sg.hibernate"));

    @Test
    void observeModeChangesNothingAndCountsWhatItWouldHaveChanged() throws Exception {
        Outcome plain = Fork.run(MAIN, "s3", "h2", false, "");
        Outcome observe = Fork.run(MAIN, "s3", "h2", true, "mode=observe");
        assertTrue(plain.get("cleanup").contains("is closed"), plain.toString());
        assertEquals(plain.get("cleanup"), observe.get("cleanup"), "observe mode leaves the exception alone");
        assertEquals(1, observe.event("rollback.swallowed"), observe.toString());
        assertTrue(observe.stderr.contains("rollback.swallowed reason=closed (observe: not changed)"), observe.stderr);
    }

    @Test
    void modeOffIsNoAgentAtAll() throws Exception {
        Outcome off = Fork.run(MAIN, "s3", "h2", true, "mode=off");
        assertTrue(off.get("cleanup").contains("is closed"), off.toString());
        assertTrue(off.events.isEmpty(), "no report: the agent never installed");
        assertFalse(off.stderr.contains("[sessionguard]") || off.stderr.contains("sessionguard -"), off.stderr);
    }

    @Test
    void eventsAreLoggedThroughTheApplicationsLoggingWithTheFirstStackTrace() throws Exception {
        Outcome o = Fork.run(MAIN, "s3", "h2", true, "");
        List<String> lines = Arrays.asList(o.stderr.split("\n"));
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("rollback.swallowed reason=closed at org.hibernate.engine.transaction.internal.TransactionImpl#rollback")) {
                at = i;
                break;
            }
        }
        assertTrue(at >= 0, o.stderr);
        String line = lines.get(at);
        if (APP_HAS_SLF4J_BINDING) {
            assertTrue(line.contains("WARN sessionguard - "), "through the application's SLF4J: " + line);
        } else {
            assertTrue(line.startsWith("WARNING: [sessionguard] "), "through java.util.logging: " + line);
        }
        assertTrue(line.contains("exception=java.lang.IllegalStateException: ") && line.contains(" is closed")
                && line.contains("thread=main"), line);
        assertTrue(lines.get(at + 1).startsWith("java.lang.IllegalStateException") || lines.get(at + 1).startsWith("\tat "),
                "the first event carries the stack trace: " + lines.get(at + 1));
    }

    @Test
    void repeatsAreCountedEveryTimeAndLoggedAFewTimes() throws Exception {
        Outcome o = Fork.run(MAIN, "repeats", "h2", true, "");
        assertEquals("0", o.get("escaped"));
        assertEquals(1000, o.event("rollback.swallowed"));
        List<String> logged = Arrays.stream(o.stderr.split("\n"))
                .filter(l -> l.contains("rollback.swallowed reason=")).collect(Collectors.toList());
        assertFalse(logged.isEmpty());
        assertTrue(logged.size() <= 1 + 60, "at most one line a second after the first: " + logged.size());
        assertEquals(logged.size() == 1 ? 0 : logged.size() - 1,
                logged.stream().filter(l -> l.contains("more like it since the last line")).count());
    }
}
