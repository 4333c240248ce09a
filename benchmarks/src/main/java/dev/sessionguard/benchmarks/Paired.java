package dev.sessionguard.benchmarks;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongBinaryOperator;
import org.openjdk.jmh.util.ListStatistics;

/**
 * {@code Paired [seconds per operation] [warmup seconds] [plain-first | control]}, run with {@code -javaagent}: the end-to-end workload of
 * {@link TransactionCycles} in one JVM, twice: a copy of HikariCP, H2 and Hibernate that the agent weaves and a
 * copy it leaves as it is (its class loader does not delegate the helper package, so the agent skips it, as it
 * does any such loader: docs/weaving.md), the two driven in alternating batches of about 200 ms, the order
 * swapped every round. A drift of the machine (another process, a slower minute) hits both copies of a round
 * alike, which the forks of {@link Compare} cannot give on a shared 2-core machine: there each JVM runs alone,
 * minutes apart. What this measures is the woven code: the agent's costs for the whole JVM (premain,
 * Thread.interrupt() woven, the JVM's agent capabilities) are the same for both copies, and {@link Compare}'s
 * forks measure them. Before measuring, it checks that the copies differ as they must: rollback() after
 * close() returns in the woven copy (the agent's policy) and throws in the other.
 *
 * <p>Per round, the throughput ratio woven/plain; printed: both copies' mean time per operation and the mean of
 * the rounds' ratios with its 99.9% error (Student's t over the rounds, as JMH gives its errors).
 */
public final class Paired {

    private static final String[] NAMES = {"jdbcCommit", "jdbcRollback", "hibernateCommit"};
    private static final long BATCH_NANOS = 200_000_000L;

    private Paired() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        URL[] urls = libraries();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        // control: both copies left as they are (an A/A run): what the harness itself shows when nothing differs
        boolean control = args.length > 2 && "control".equals(args[2]);
        ClassLoader wovenLoader = control ? hiding(urls, platform) : new URLClassLoader(urls, platform);
        ClassLoader plainLoader = hiding(urls, platform);
        // which copy is set up (and so loaded and first compiled) first: scripts/bench.sh paired swaps it every other JVM
        boolean plainFirst = args.length > 2 && "plain-first".equals(args[2]);
        LongBinaryOperator plain = plainFirst ? work(plainLoader, "plain") : null;
        LongBinaryOperator woven = work(wovenLoader, "woven");
        if (!plainFirst) {
            plain = work(plainLoader, "plain");
        }
        long w = woven.applyAsLong(Workload.ROLLBACK_AFTER_CLOSE_RETURNS, 1);
        long p = plain.applyAsLong(Workload.ROLLBACK_AFTER_CLOSE_RETURNS, 1);
        if (w != (control ? 0 : 1) || p != 0) {
            System.err.println("the copies are not as they must be (rollback after close returns: woven " + (w == 1) + ", plain " + (p == 1)
                    + "); is the agent loaded (-javaagent) and in protect mode?");
            System.exit(2);
        }
        if (control) {
            System.out.println("control run: both copies left as they are ('woven' is a second plain copy)");
        }
        System.out.printf("paired in one JVM: %d s per operation after %d s of warm-up, batches of %d ms, %d cores, %s%n",
                seconds, warmupSeconds, BATCH_NANOS / 1_000_000, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        System.out.printf("%-16s %11s %11s %7s   %-22s %s%n", "end to end", "plain us/op", "woven us/op", "rounds",
                "ratio mean ± 99.9%", "ratio median [95%]    (throughput woven/plain per round)");
        for (int op = 0; op < NAMES.length; op++) {
            measure(op, woven, plain, seconds, warmupSeconds);
        }
    }

    private static void measure(int op, LongBinaryOperator woven, LongBinaryOperator plain, int seconds, int warmupSeconds) {
        // warm-up, alternating, also to find the batch size that takes about BATCH_NANOS
        long n = 16;
        long warmupEnd = System.nanoTime() + warmupSeconds * 1_000_000_000L;
        long lastPlain = 1;
        while (System.nanoTime() < warmupEnd) {
            time(woven, op, n);
            lastPlain = Math.max(1, time(plain, op, n));
            n = Math.max(16, Math.min(n * 4, n * BATCH_NANOS / lastPlain));
        }
        ListStatistics ratios = new ListStatistics();
        ListStatistics plainUs = new ListStatistics();
        ListStatistics wovenUs = new ListStatistics();
        int rounds = Math.max(4, (int) (seconds * 1_000_000_000L / (2 * BATCH_NANOS)));
        double[] sorted = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long tw;
            long tp;
            if ((r & 1) == 0) {
                tw = time(woven, op, n);
                tp = time(plain, op, n);
            } else {
                tp = time(plain, op, n);
                tw = time(woven, op, n);
            }
            sorted[r] = (double) tp / tw;
            ratios.addValue(sorted[r]);
            plainUs.addValue(tp / 1000.0 / n);
            wovenUs.addValue(tw / 1000.0 / n);
        }
        java.util.Arrays.sort(sorted);
        int k = signTestRank(rounds);
        double median = (sorted[(rounds - 1) / 2] + sorted[rounds / 2]) / 2;
        System.out.printf("%-16s %11.3f %11.3f %7d   %.4f ± %.4f        %.4f [%.4f, %.4f]%n", NAMES[op], plainUs.getMean(), wovenUs.getMean(), rounds,
                ratios.getMean(), ratios.getMeanErrorAt(0.999), median, sorted[k - 1], sorted[rounds - k]);
    }

    /**
     * The largest k with P(X < k) <= 2.5% for X ~ Binomial(n, 1/2): the k-th smallest and k-th largest of n values
     * bound their median with at least 95% confidence whatever their distribution (the sign test's interval).
     */
    static int signTestRank(int n) {
        double p = Math.pow(0.5, n);
        double c = 0;
        double b = 1;
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b = b * (n - i + 1) / i;
            }
            c += b * p;
            if (c > 0.025) {
                break;
            }
            k = i + 1;
        }
        return Math.max(1, k);
    }

    private static long sink;

    private static long time(LongBinaryOperator work, int op, long n) {
        long t = System.nanoTime();
        sink += work.applyAsLong(op, n);
        return System.nanoTime() - t;
    }

    /** A loader the agent leaves as it is: it weaves a loader's library classes only when that loader resolves its helper package. */
    private static ClassLoader hiding(URL[] urls, ClassLoader parent) {
        return new URLClassLoader(urls, parent) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.startsWith("dev.sessionguard.bootstrap.")) {
                    throw new ClassNotFoundException(name + " (hidden: this copy stays as it is)");
                }
                return super.loadClass(name, resolve);
            }
        };
    }

    private static LongBinaryOperator work(ClassLoader loader, String name) throws Exception {
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        self.setContextClassLoader(loader);
        try {
            return (LongBinaryOperator) Class.forName(Workload.class.getName(), true, loader).getConstructor(String.class).newInstance(name);
        } finally {
            self.setContextClassLoader(before);
        }
    }

    /** This JVM's class path without the helper classes' own jar (the agent puts those in the bootstrap loader) and JMH. */
    private static URL[] libraries() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = new File(entry).getName();
            if (!entry.isEmpty() && !name.startsWith("sessionguard-") && !name.startsWith("jmh-")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        return urls.toArray(new URL[0]);
    }
}
