package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import dev.sessionguard.testing.Matrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Protection scenarios beside the OpenTelemetry Java agent, which instruments Hibernate 6+ (SessionImpl,
 * TransactionImpl) and JDBC, and makes those classes implement interfaces it generates at run time with no
 * class file (VirtualFieldAccessor$...). Before SessionGuard described such an interface itself, every start
 * with OpenTelemetry first left H2's JdbcConnection, SessionImpl and TransactionImpl uninstrumented with a WARN
 * that blamed the library version (#11). Both orders on the command line: the scenario's outcome is the one
 * without OpenTelemetry, every class is woven, no broken class, and OpenTelemetry's JDBC spans are still
 * written. Runs where the module copied the agent to target/other-agents (hibernate-7.4).
 */
class OtherAgentScenariosTest {

    static final Path OTEL = Paths.get("target", "other-agents", "otel.jar").toAbsolutePath();
    static final String MAIN = "dev.sessionguard.scenarios.Scenarios";
    static final List<String> OTEL_OPTIONS = Arrays.asList("-javaagent:" + OTEL, "-Dotel.traces.exporter=logging",
            "-Dotel.metrics.exporter=none", "-Dotel.logs.exporter=none");
    static final String[] WOVEN = {
        "org.h2.jdbc.JdbcConnection#rollback", "org.hibernate.internal.SessionImpl#close",
        "org.hibernate.engine.transaction.internal.TransactionImpl#commit",
        "org.hibernate.engine.transaction.internal.TransactionImpl#rollback"};

    @ParameterizedTest(name = "{0} beside OpenTelemetry")
    @CsvSource({
        "s2, caller",        // rollback after commit: TransactionImpl's advice
        "s5, cleanup",       // interrupted rollback on H2: the interrupt shield around JdbcConnection
        "s14, caller",       // a failed commit reaches the caller
    })
    void scenarioBesideOpenTelemetry(String scenario, String key) throws Exception {
        Assumptions.assumeTrue(Files.exists(OTEL), "no " + OTEL + " (this module does not copy it)");
        String cp = Fork.classpath();
        List<String> none = Collections.emptyList();
        Outcome reference = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {scenario, "h2"}, true, "", none, none);
        Outcome alone = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {scenario, "h2"}, false, "", OTEL_OPTIONS, none);
        assertTrue(spans(alone) > 0, () -> "OpenTelemetry alone writes JDBC spans: " + Fork.tail(alone.stderr));
        Outcome otelFirst = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {scenario, "h2"}, true, "", OTEL_OPTIONS, none);
        Outcome sgFirst = Fork.run(Fork.JAVA_HOME, cp, MAIN, new String[] {scenario, "h2"}, true, "", none, OTEL_OPTIONS);
        String version = "otel " + System.getProperty("sg.otel.version", "?");
        Matrix.row("other-agents.md", "Hibernate | scenario | other agent | order | outcome | its JDBC spans | SessionGuard events",
                ProtectionScenariosTest.HIBERNATE, scenario, version, "no SessionGuard", key + " " + alone.get(key),
                String.valueOf(spans(alone)), "-");
        for (Outcome o : new Outcome[] {otelFirst, sgFirst}) {
            String order = o == otelFirst ? "OpenTelemetry first" : "SessionGuard first";
            assertEquals(0, o.exitCode, () -> order + ": " + Fork.tail(o.stderr));
            assertEquals(reference.get(key), o.get(key), order + ": what the caller sees is what it sees without OpenTelemetry");
            assertEquals(reference.get("rows"), o.get("rows"), order);
            assertEquals(Collections.emptyList(), o.brokenOrUninstrumented(), order + ": no broken class, nothing left uninstrumented");
            assertTrue(spans(o) > 0, () -> order + ": OpenTelemetry's JDBC spans are still written");
            for (String woven : WOVEN) {
                assertTrue(o.report.contains("\"" + woven + "\""), () -> order + ": " + woven + " is woven; report: " + o.report);
            }
            Matrix.row("other-agents.md", "Hibernate | scenario | other agent | order | outcome | its JDBC spans | SessionGuard events",
                    ProtectionScenariosTest.HIBERNATE, scenario, version, order, key + " " + o.get(key),
                    String.valueOf(spans(o)), events(o));
        }
        if (!"s14".equals(scenario)) { // s14: the failed commit reaches the caller either way
            assertNotEquals(reference.get(key), alone.get(key), "without SessionGuard the failure still shows beside OpenTelemetry");
        }
    }

    /** OpenTelemetry's JDBC spans in its logging exporter's lines. */
    static int spans(Outcome o) {
        Matcher m = Pattern.compile("LoggingSpanExporter - .*\\[tracer: io\\.opentelemetry\\.jdbc").matcher(o.stdout + o.stderr);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
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
