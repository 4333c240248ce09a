package dev.sessionguard.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
}
