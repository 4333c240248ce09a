package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import dev.sessionguard.testing.OtherAgents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Protection scenarios beside the agents production services run: the OpenTelemetry Java agent, which instruments
 * Hibernate 6+ (SessionImpl, TransactionImpl) and JDBC and makes those classes implement interfaces it generates
 * at run time with no class file (VirtualFieldAccessor$...), Datadog's dd-java-agent and Elastic's APM agent,
 * which instrument JDBC. Before SessionGuard described such an interface itself, every start with OpenTelemetry
 * first left H2's JdbcConnection, SessionImpl and TransactionImpl uninstrumented with a WARN that blamed the
 * library version (#11). Both orders on the command line: the scenario's outcome is the one without the other
 * agent, every class is woven, no broken class, and the other agent's JDBC spans are still written. Runs where
 * the module copied the agents to target/other-agents (hibernate-7.4). dd-java-agent 1.40 and elastic-apm-agent
 * 1.52 do not start on JDK 25 themselves (Datadog: "Throwable thrown while installing the Datadog Agent";
 * Elastic: "Could not access Unsafe class: sun.misc.Unsafe.defineClass"): their cells run on JDK 17.
 */
class OtherAgentScenariosTest {

    static final Path AGENTS = Paths.get("target", "other-agents").toAbsolutePath();
    static final String MAIN = "dev.sessionguard.scenarios.Scenarios";
    static final String[] WOVEN = {
        "org.h2.jdbc.JdbcConnection#rollback", "org.hibernate.internal.SessionImpl#close",
        "org.hibernate.engine.transaction.internal.TransactionImpl#commit",
        "org.hibernate.engine.transaction.internal.TransactionImpl#rollback"};

    @ParameterizedTest(name = "{1} beside {0}")
    @CsvSource({
        "otel, s2, caller",       // rollback after commit: TransactionImpl's advice
        "otel, s5, cleanup",      // interrupted rollback on H2: the interrupt shield around JdbcConnection
        "otel, s14, caller",      // a failed commit reaches the caller
        "datadog, s2, caller",
        "datadog, s5, cleanup",
        "elastic, s2, caller",
        "elastic, s5, cleanup",
    })
    void scenarioBesideAnotherAgent(String agent, String scenario, String key) throws Exception {
        Assumptions.assumeTrue(Files.exists(AGENTS.resolve(agent + ".jar")), "no " + AGENTS.resolve(agent + ".jar") + " (this module does not copy it)");
        // Datadog 1.40 and Elastic 1.52 do not start on JDK 25: the test JVM's own runtime (17) for them
        String javaHome = agent.equals("otel") ? Fork.JAVA_HOME : System.getProperty("java.home");
        List<String> other = OtherAgents.options(AGENTS, agent, "scenarios", MAIN + "#run");
        String cp = Fork.classpath();
        List<String> none = Collections.emptyList();
        Outcome reference = Fork.run(javaHome, cp, MAIN, new String[] {scenario, "h2"}, true, "", none, none);
        Outcome alone = Fork.run(javaHome, cp, MAIN, new String[] {scenario, "h2"}, false, "", other, none);
        assertTrue(spans(agent, alone) > 0, () -> agent + " alone writes JDBC spans: " + Fork.tail(alone.stderr));
        Outcome agentFirst = Fork.run(javaHome, cp, MAIN, new String[] {scenario, "h2"}, true, "", other, none);
        Outcome sgFirst = Fork.run(javaHome, cp, MAIN, new String[] {scenario, "h2"}, true, "", none, other);
        String version = agent + " " + System.getProperty("sg." + agent + ".version", "?");
        String hibernate = System.getProperty("sg.hibernate", "?") + " (JDK "
                + Paths.get(javaHome).getFileName().toString().replaceAll(".*?(\\d+).*", "$1") + ")";
        String header = "Hibernate | scenario | other agent | order | outcome | its JDBC spans | SessionGuard events";
        Matrix.row("other-agents.md", header, hibernate, scenario, version, "no SessionGuard",
                key + " " + alone.get(key), String.valueOf(spans(agent, alone)), "-");
        for (Outcome o : new Outcome[] {agentFirst, sgFirst}) {
            String order = o == agentFirst ? agent + " first" : "SessionGuard first";
            assertEquals(0, o.exitCode, () -> order + ": " + Fork.tail(o.stderr));
            assertEquals(reference.get(key), o.get(key), order + ": what the caller sees is what it sees without " + agent);
            assertEquals(reference.get("rows"), o.get("rows"), order);
            assertEquals(Collections.emptyList(), o.brokenOrUninstrumented(), order + ": no broken class, nothing left uninstrumented");
            assertTrue(spans(agent, o) > 0, () -> order + ": " + agent + "'s JDBC spans are still written");
            for (String woven : WOVEN) {
                assertTrue(o.report.contains("\"" + woven + "\""), () -> order + ": " + woven + " is woven; report: " + o.report);
            }
            Matrix.row("other-agents.md", header, hibernate, scenario, version, order,
                    key + " " + o.get(key), String.valueOf(spans(agent, o)), events(o));
        }
        if (!"s14".equals(scenario)) { // s14: the failed commit reaches the caller either way
            assertNotEquals(reference.get(key), alone.get(key), "without SessionGuard the failure still shows beside " + agent);
        }
    }

    static int spans(String agent, Outcome o) {
        return OtherAgents.jdbcSpans(agent, o.stdout + o.stderr);
    }

    static String events(Outcome o) {
        List<String> names = new ArrayList<>();
        for (java.util.Map.Entry<String, Long> e : new java.util.TreeMap<>(o.events).entrySet()) {
            if (!e.getKey().equals("stateSize") && e.getValue() > 0) {
                names.add(e.getKey() + " " + e.getValue());
            }
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }
}
