package dev.sessionguard.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The calls the agent wraps, on the normal path (nothing fails, nobody interrupts), as an application makes
 * them: a HikariCP connection to embedded H2 (in memory) committed or rolled back and closed, and a Hibernate
 * 6.6 session doing the same ({@link Workload}). {@link Compare} runs these in a JVM without and one with the agent.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TransactionCycles {

    private Workload work;

    @Setup
    public void setUp() throws Exception {
        work = new Workload("bench");
    }

    @TearDown
    public void tearDown() {
        work.close();
    }

    /** getConnection, insert, commit, close: ProxyConnection and JdbcConnection commit and close. */
    @Benchmark
    public long jdbcCommit() throws Exception {
        return work.jdbcCycle(true);
    }

    /** getConnection, insert, rollback, close. */
    @Benchmark
    public long jdbcRollback() throws Exception {
        return work.jdbcCycle(false);
    }

    /** openSession, begin, native insert, commit, close: Hibernate's TransactionImpl, SessionImpl and the JDBC below. */
    @Benchmark
    public long hibernateCommit() {
        return work.hibernateCommit();
    }
}
