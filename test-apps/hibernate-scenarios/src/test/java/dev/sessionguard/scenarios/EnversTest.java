package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import org.junit.jupiter.api.Test;

/**
 * #12 hole 2 with real Hibernate Envers ({@link EnversScenario}): a flush of Envers' audit session inside a
 * commit must leave the committing session marked, so that another thread's close() of it waits, parked,
 * once. On the agent before the fix the flush unmarked the thread, and the close spun: hundreds of thousands
 * of close.waited in the hold.
 */
class EnversTest {

    static final String MAIN = "dev.sessionguard.scenarios.EnversScenario";

    @Test
    void aCloseWaitsOnceForACommitThatFlushesEnversAuditSession() throws Exception {
        Outcome plain = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN, new String[0], false, "");
        // closeWaitMs long: the closer's one wait ends when the commit does, not at the bound on a stalled machine
        Outcome agent = Fork.run(Fork.JAVA_HOME, Fork.classpath(), MAIN, new String[0], true, "closeWaitMs=60000");
        assertEquals(0, agent.exitCode, () -> Fork.tail(agent.stderr));
        assertEquals("closer waiting in the agent", agent.get("hold"), agent.toString());
        assertEquals(1, agent.event("close.waited"), "one wait, one event: " + agent);
        assertEquals("ok", agent.get("commit"), agent.toString());
        assertEquals("ok", agent.get("close"), agent.toString());
        assertEquals("1", agent.get("rows"), agent.toString());
        assertEquals("1", agent.get("auditRows"), "Envers' audit row committed with it: " + agent);
        assertEquals("0", agent.get("active"), agent.toString());
        assertEquals("0", agent.get("agentBusy"), "no session left marked busy");
        Matrix.row("concurrency-matrix.md", "Hibernate | test | without the agent | with the agent",
                Fork.label(System.getProperty("sg.hibernate")), "envers (close during a commit that flushes the audit session)",
                describe(plain), describe(agent) + "; close.waited: " + agent.event("close.waited"));
    }

    private static String describe(Outcome o) {
        return ("commit: " + o.get("commit") + "; close: " + o.get("close") + "; hold: " + o.get("hold") + "; rows: "
                + o.get("rows") + "; audit rows: " + o.get("auditRows")).replace('|', '/');
    }
}
