package dev.sessionguard.benchmarks;

import java.io.File;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link TransactionCycles} in forked JVMs without and with {@code -javaagent}, in the same run, and
 * prints each benchmark's time per operation and the ratio with/without.
 * {@code Compare <agent jar> [forks] [warmup s] [measurement s]}
 */
public final class Compare {

    private Compare() {
    }

    public static void main(String[] args) throws Exception {
        String agent = new File(args.length > 0 ? args[0] : "agent/target/sessionguard-agent.jar").getAbsolutePath();
        int forks = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int measure = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        if (!new File(agent).isFile()) {
            System.err.println("no agent jar at " + agent + "; build it first (mvn -B package -DskipTests)");
            System.exit(2);
        }
        Map<String, double[]> plain = run(forks, warmup, measure, null);
        Map<String, double[]> with = run(forks, warmup, measure, "-javaagent:" + agent + "=log=off");
        System.out.println();
        System.out.println(String.format("%-22s %18s %18s %8s", "benchmark (us/op)", "without", "with", "ratio"));
        for (Map.Entry<String, double[]> e : plain.entrySet()) {
            double[] p = e.getValue();
            double[] a = with.get(e.getKey());
            System.out.println(String.format("%-22s %10.3f ± %5.3f %10.3f ± %5.3f %8.3f", e.getKey(), p[0], p[1], a[0], a[1], a[0] / p[0]));
        }
    }

    private static Map<String, double[]> run(int forks, int warmup, int measure, String jvmArg) throws Exception {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(TransactionCycles.class.getName() + "\\.")
                .forks(forks)
                .warmupIterations(warmup).warmupTime(TimeValue.seconds(1))
                .measurementIterations(measure).measurementTime(TimeValue.seconds(1))
                .threads(1);
        List<String> jvmArgs = new ArrayList<>();
        jvmArgs.add("-Xmx512m");
        if (jvmArg != null) {
            jvmArgs.add(jvmArg);
        }
        o.jvmArgsAppend(jvmArgs.toArray(new String[0]));
        Collection<RunResult> results = new Runner(o.build()).run();
        Map<String, double[]> m = new LinkedHashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.') + 1);
            m.put(name, new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
        }
        return m;
    }
}
