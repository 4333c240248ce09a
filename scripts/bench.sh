#!/usr/bin/env bash
# Steady-state cost of the agent, measured, not asserted: JMH runs the transaction cycles of
# benchmarks/ (HikariCP + H2 in memory, JDBC commit/rollback, Hibernate 6.6 commit) in forked JVMs
# without and with -javaagent in the same run, and prints the times per operation and their ratio.
#   scripts/bench.sh [forks] [warmup seconds] [measurement seconds]     (defaults 2 3 5: about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
sg_build benchmarks
sg_check_agent
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
echo "$(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1)"
"$JAVA" -cp "$CP" dev.sessionguard.benchmarks.Compare "$AGENT" "${1:-2}" "${2:-3}" "${3:-5}" \
  | grep -v '^# \(JMH\|VM\|Blackhole\|Warmup\|Measurement\|Timeout\|Threads\|Benchmark mode\)'
