package dev.sessionguard.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agents production services already run beside SessionGuard (the OpenTelemetry Java agent, Datadog's
 * dd-java-agent, Elastic's APM agent), as the tests start them: each with no backend to send to and its spans
 * written to its own log, so that a test can count the JDBC spans it still produces. The jars are copied from
 * Maven Central by the module that runs them (target/other-agents/&lt;name&gt;.jar).
 */
public final class OtherAgents {

    private OtherAgents() {
    }

    /**
     * The JVM options that start {@code agent} ("otel", "datadog", "elastic") from {@code dir}. Elastic records
     * spans only inside a transaction: a program with no web request names the method that makes one
     * ({@code traceMethod}, e.g. {@code pkg.Main#run}), or null.
     */
    public static List<String> options(Path dir, String agent, String service, String traceMethod) {
        String jar = "-javaagent:" + dir.resolve(agent + ".jar");
        switch (agent) {
            case "otel":
                return Arrays.asList(jar, "-Dotel.traces.exporter=logging", "-Dotel.metrics.exporter=none",
                        "-Dotel.logs.exporter=none");
            case "datadog":
                return Arrays.asList(jar, "-Ddd.writer.type=LoggingWriter", "-Ddd.jmxfetch.enabled=false",
                        "-Ddd.profiling.enabled=false", "-Ddd.instrumentation.telemetry.enabled=false",
                        "-Ddd.remote_config.enabled=false");
            case "elastic":
                List<String> o = new ArrayList<>(Arrays.asList(jar, "-Delastic.apm.disable_send=true",
                        "-Delastic.apm.log_level=DEBUG", "-Delastic.apm.service_name=" + service,
                        "-Delastic.apm.central_config=false", "-Delastic.apm.metrics_interval=0s",
                        "-Delastic.apm.cloud_provider=none"));
                if (traceMethod != null) {
                    o.add("-Delastic.apm.trace_methods=" + traceMethod);
                }
                return o;
            default:
                throw new IllegalArgumentException("no such agent here: " + agent);
        }
    }

    /** How many JDBC spans {@code agent} wrote to its log, in {@code output} (each agent's own format). */
    public static int jdbcSpans(String agent, String output) {
        String pattern;
        switch (agent) {
            case "otel":
                pattern = "LoggingSpanExporter - .*\\[tracer: io\\.opentelemetry\\.jdbc";
                break;
            case "datadog":
                pattern = "\"name\":\"[a-z0-9]+\\.query\""; // postgresql.query, h2.query
                break;
            default:
                pattern = "endSpan '(INSERT|SELECT|UPDATE|DELETE|insert|select|update|delete)";
        }
        Matcher m = Pattern.compile(pattern).matcher(output);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * An app of test-apps under the "kill" storm (the one whose failure shows without SessionGuard) beside
     * {@code agent} from {@code dir}: the other agent alone, then SessionGuard after it and before it on the
     * command line, and attached to the running app. With SessionGuard its promises hold, every class in
     * {@code woven} is in its report (none left uninstrumented: docs/weaving.md, "Beside other agents"), no class
     * is broken, the other agent's JDBC instrumentation still writes its spans, and SessionGuard guarded the
     * killed connections' rollbacks. Rows go to target/other-agents.md.
     */
    public static void killStormBeside(String app, String mainClass, Path dir, String agent, String version, String[] woven,
                                       long seed) throws Exception {
        List<String> other = options(dir, agent, app, null);
        List<String> none = Collections.emptyList();
        String label = "-" + agent + "-" + version.replace(' ', '-');
        Outcome alone = AppStorms.run(app, mainClass, "-", "kill", false, seed, label, other, none);
        assertTrue(AppStorms.failed(alone), () -> "without SessionGuard the kill storm's failure shows beside " + version + ": " + alone.result);
        assertTrue(jdbcSpans(agent, alone.stdout + alone.stderr) > 0, () -> version + " alone writes JDBC spans: " + Fork.tail(alone.stderr));
        List<String> attach = new ArrayList<>(other);
        attach.add("-Dsg.attach=" + Fork.AGENT_JAR);
        Outcome[] with = {
            AppStorms.run(app, mainClass, "-", "kill", true, seed, label + "-last", other, none),
            AppStorms.run(app, mainClass, "-", "kill", true, seed, label + "-first", none, other),
            AppStorms.run(app, mainClass, "-", "kill", false, seed, label + "-attached", attach, none),
        };
        String[] orders = {agent + " first", "SessionGuard first", "attached after " + agent};
        String header = "other agent | SessionGuard | outcome | other agent's JDBC spans | SessionGuard events";
        Matrix.row("other-agents.md", header, version, "none", AppStorms.summary(alone),
                String.valueOf(jdbcSpans(agent, alone.stdout + alone.stderr)), "-");
        for (int i = 0; i < with.length; i++) {
            Outcome o = with[i];
            String order = orders[i];
            int spans = jdbcSpans(agent, o.stdout + o.stderr);
            AppStorms.assertProtected(o);
            assertEquals(Collections.emptyList(), o.brokenOrUninstrumented(), order + ": no broken class, nothing left uninstrumented");
            assertTrue(spans > 0, () -> order + ": " + version + "'s JDBC spans are still written");
            assertTrue(o.event("rollback.swallowed") > 0, () -> order + ": SessionGuard guarded the killed connections' rollbacks: " + o.events);
            for (String w : woven) {
                assertTrue(o.report.contains("\"" + w + "\""), () -> order + ": " + w + " is woven; report: " + o.report);
            }
            Matrix.row("other-agents.md", header, version, order, AppStorms.summary(o), String.valueOf(spans), AppStorms.events(o));
        }
    }
}
