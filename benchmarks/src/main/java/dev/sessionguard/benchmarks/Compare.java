package dev.sessionguard.benchmarks;

import java.io.File;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.ListStatistics;

/**
 * {@code Compare <agent jar> [forks] [warmup s] [measurement s] [e2e]} ({@code e2e}: the second part only):
 * <ol>
 *   <li>{@link GuardPath}, the policy core alone, with 1, 2 and 8 threads: ns per guarded call and B/op
 *       (JMH's GC profiler);</li>
 *   <li>{@link TransactionCycles} end to end, in forked JVMs without and with {@code -javaagent}, alternating
 *       (without, with, without, with: a drift of the machine hits both alike): us/op with its 99.9% error,
 *       B/op, and the ratio with/without with its error; and, since most of the noise on a small machine is
 *       between forks (where the JIT puts things), not between iterations, the throughput ratio of each pair of
 *       forks run one after the other (without's time over with's: 0.99 means 1% slower with the agent), averaged
 *       over the pairs with its 99.9% error (Student's t over the pairs).</li>
 * </ol>
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
        boolean endToEndOnly = args.length > 4 && "e2e".equals(args[4]);
        StringBuilder core = new StringBuilder(String.format("%-28s %8s %20s %10s%n", "GuardPath (ns/op)", "threads", "time", "B/op"));
        for (int threads : endToEndOnly ? new int[0] : new int[] {1, 2, 8}) {
            for (Map.Entry<String, Stats> e : run(GuardPath.class, forks, warmup, measure, threads, null).entrySet()) {
                Stats s = e.getValue();
                core.append(String.format("%-28s %8d %10.2f ± %6.2f %10.1f%n", e.getKey(), threads, s.mean(), s.error(), s.bytes));
            }
        }
        Map<String, Stats> plain = new LinkedHashMap<>();
        Map<String, Stats> with = new LinkedHashMap<>();
        Map<String, List<Double>> pairs = new LinkedHashMap<>();
        for (int f = 0; f < forks; f++) {
            Map<String, Stats> p = run(TransactionCycles.class, 1, warmup, measure, 1, null);
            Map<String, Stats> a = run(TransactionCycles.class, 1, warmup, measure, 1, "-javaagent:" + agent + "=log=off");
            for (Map.Entry<String, Stats> e : p.entrySet()) {
                if (a.containsKey(e.getKey())) {
                    pairs.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue().mean() / a.get(e.getKey()).mean());
                }
            }
            merge(plain, p);
            merge(with, a);
        }
        System.out.println();
        if (!endToEndOnly) {
            System.out.print(core);
            System.out.println();
        }
        System.out.println(String.format("%-22s %20s %8s %20s %8s %16s %26s", "end to end (us/op)", "without", "B/op", "with", "B/op",
                "ratio with/without", "throughput ratio, pairs"));
        for (Map.Entry<String, Stats> e : plain.entrySet()) {
            Stats p = e.getValue();
            Stats a = with.get(e.getKey());
            double ratio = a.mean() / p.mean();
            double ratioError = ratio * Math.sqrt(sq(a.error() / a.mean()) + sq(p.error() / p.mean()));
            Stats pr = new Stats();
            pr.iterations.addAll(pairs.getOrDefault(e.getKey(), new ArrayList<>()));
            System.out.println(String.format("%-22s %10.3f ± %7.3f %8.0f %10.3f ± %7.3f %8.0f %9.3f ± %5.3f %11.4f ± %6.4f (%d)",
                    e.getKey(), p.mean(), p.error(), p.bytes, a.mean(), a.error(), a.bytes, ratio, ratioError,
                    pr.mean(), pr.error(), pr.iterations.size()));
        }
        System.out.println("(errors: 99.9% confidence intervals over all measurement iterations of " + forks
                + " forks each, as JMH gives them; ratio error propagated from both; the pairs' throughput ratio is"
                + " without's time over with's per pair of forks, its error over the pairs)");
    }

    private static double sq(double x) {
        return x * x;
    }

    /** All measurement iterations of one benchmark, and its allocation per operation. */
    static final class Stats {
        final List<Double> iterations = new ArrayList<>();
        double bytes = Double.NaN;

        private ListStatistics stats() {
            ListStatistics l = new ListStatistics();
            for (double d : iterations) {
                l.addValue(d);
            }
            return l;
        }

        double mean() {
            return stats().getMean();
        }

        double error() {
            return iterations.size() > 2 ? stats().getMeanErrorAt(0.999) : Double.NaN;
        }
    }

    private static void merge(Map<String, Stats> into, Map<String, Stats> from) {
        for (Map.Entry<String, Stats> e : from.entrySet()) {
            Stats s = into.computeIfAbsent(e.getKey(), k -> new Stats());
            s.iterations.addAll(e.getValue().iterations);
            s.bytes = Double.isNaN(s.bytes) ? e.getValue().bytes : (s.bytes + e.getValue().bytes) / 2;
        }
    }

    private static Map<String, Stats> run(Class<?> benchmarks, int forks, int warmup, int measure, int threads, String jvmArg) throws Exception {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(benchmarks.getName() + "\\.")
                .forks(forks)
                .warmupIterations(warmup).warmupTime(TimeValue.seconds(1))
                .measurementIterations(measure).measurementTime(TimeValue.seconds(1))
                .threads(threads)
                .addProfiler(GCProfiler.class);
        List<String> jvmArgs = new ArrayList<>();
        jvmArgs.add("-Xmx512m");
        jvmArgs.add("-Xms512m"); // a heap that is not resized during the run: one noise source less between forks
        if (jvmArg != null) {
            jvmArgs.add(jvmArg);
        }
        o.jvmArgsAppend(jvmArgs.toArray(new String[0]));
        Collection<RunResult> results = new Runner(o.build()).run();
        Map<String, Stats> m = new LinkedHashMap<>();
        for (RunResult r : results) {
            BenchmarkParams params = r.getParams();
            String name = params.getBenchmark();
            name = name.substring(name.lastIndexOf('.') + 1);
            Stats s = new Stats();
            for (org.openjdk.jmh.results.BenchmarkResult b : r.getBenchmarkResults()) {
                for (IterationResult i : b.getIterationResults()) {
                    s.iterations.add(i.getPrimaryResult().getScore());
                }
            }
            Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            s.bytes = alloc == null ? Double.NaN : alloc.getScore();
            m.put(name, s);
        }
        return m;
    }
}
