#!/usr/bin/env bash
# Steady-state cost of the agent, measured, not asserted: JMH runs
#   1. GuardPath: the policy core alone (the helper classes on the class path, no agent, no library), with
#      1, 2 and 8 threads: ns per guarded call pair and B/op (JMH's GC profiler);
#   2. TransactionCycles: HikariCP + H2 in memory (JDBC commit/rollback) and Hibernate 6.6 commit, in forked
#      JVMs without and with -javaagent, alternating (without, with, without, with), with B/op:
# and prints both tables, each time with its 99.9% error, and the ratio with/without with its error.
#   scripts/bench.sh [forks] [warmup seconds] [measurement seconds] [e2e]     (defaults 2 3 5: about 8 minutes;
#   e2e: the end-to-end part only, its throughput ratio per pair of forks averaged over the pairs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
sg_build benchmarks
sg_check_agent
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
echo "$(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1)"
"$JAVA" -cp "$CP" dev.sessionguard.benchmarks.Compare "$AGENT" "${1:-2}" "${2:-3}" "${3:-5}" ${4:+"$4"} \
  | grep -v '^# \(JMH\|VM\|Blackhole\|Warmup\|Measurement\|Timeout\|Threads\|Benchmark mode\)'
