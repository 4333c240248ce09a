package dev.sessionguard.benchmarks;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The policy core alone, on the normal path (nothing thrown, nobody interrupts, one thread per session), as
 * the woven code calls it: no agent, no library, the helper classes on the class path. {@link Compare} runs
 * it with 1, 2 and 8 threads and the GC profiler (B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuardPath {

    private final Object proxy = new Object();
    private final Object driver = new Object();
    private final Object transaction = new Object();
    /** One session per thread, as an application has: marking it is uncontended. */
    private final Object session = new Object();

    @Setup
    public void setUp() {
        Guard.configure(Guard.MODE_PROTECT, true, 2000, 5000, false, false, null);
    }

    /** A pool proxy's commit and the driver's below it (HikariProxyConnection to H2): one guarded call pair. */
    @Benchmark
    public Throwable jdbcCommit() {
        CallState outer = Guard.enter();
        CallState inner = Guard.enter();
        Throwable t = Guard.exit(inner, Guard.COMMIT, driver, "org.h2.jdbc.JdbcConnection#commit", null);
        return Guard.exit(outer, Guard.COMMIT, proxy, "com.zaxxer.hikari.pool.ProxyConnection#commit", t);
    }

    /** Hibernate's commit: the session marked busy for the call, then the JDBC pair below it. */
    @Benchmark
    public Throwable hibernateCommit() {
        return hibernateCommit(session);
    }

    /**
     * The same with a new session each time, as an application opens one per unit of work: marking it takes its
     * identity hash, which the JVM makes (a call into the VM) the first time it is asked for one. The session object
     * itself is the benchmark's: its 16 B/op are the application's, not the agent's.
     */
    @Benchmark
    public Throwable hibernateCommitNewSession() {
        return hibernateCommit(new Object());
    }

    private Throwable hibernateCommit(Object session) {
        CallState tx = Guard.enter();
        boolean busy = Guard.waitAndMarkBusy(tx, session, transaction, "org.hibernate.engine.transaction.internal.TransactionImpl#commit", Guard.COMMIT);
        Throwable t = jdbcCommit();
        if (busy) {
            Guard.unmarkBusy(tx, session);
        }
        return Guard.exit(tx, Guard.COMMIT, transaction, session, "org.hibernate.engine.transaction.internal.TransactionImpl#commit", t);
    }
}
