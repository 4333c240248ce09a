#!/usr/bin/env bash
# Steady-state cost of the agent, measured, not asserted: JMH runs
#   1. GuardPath: the policy core alone (the helper classes on the class path, no agent, no library), with
#      1, 2 and 8 threads: ns per guarded call pair and B/op (JMH's GC profiler);
#   2. TransactionCycles: HikariCP + H2 in memory (JDBC commit/rollback) and Hibernate 6.6 commit, in forked
#      JVMs without and with -javaagent, alternating (without, with, without, with), with B/op:
# and prints both tables, each time with its 99.9% error, and the ratio with/without with its error.
#   scripts/bench.sh [forks] [warmup seconds] [measurement seconds] [e2e]     (defaults 2 3 5: about 8 minutes;
#   e2e: the end-to-end part only, its throughput ratio per pair of forks averaged over the pairs)
#   3. scripts/bench.sh paired [JVMs] [seconds] [control]: the end-to-end workload woven and not woven in the same
#      JVM, in alternating batches (benchmarks/.../Paired.java), over several JVMs
#   4. scripts/bench.sh sizes: bytes of bytecode of Hibernate's commit(), rollback(), close() and flush() in each
#      version the agent jar ships woven, without and with the advice (docs/weaving.md, "Small woven methods")
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
sg_build benchmarks
sg_check_agent
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
echo "$(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1)"
if [ "${1:-}" = sizes ]; then
  # the length of a method's code: its last instruction's offset + 1 (these methods end in return or athrow, 1 byte)
  codelen() {
    "${JAVA_HOME:+$JAVA_HOME/bin/}javap" -c -p "$1" 2>/dev/null | awk -v m="$2" '
      $0 ~ "^  [a-z].* " m "\\(\\)( throws .*)?;$" {on = 1; next}
      on && /^ +[0-9]+: / {last = $1 + 0}
      on && /^$/ {print last + 1; exit}'
  }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  unzip -q -o -d "$tmp" "$AGENT" 'META-INF/sessionguard/woven/org.hibernate.*' \
    || fail "no woven Hibernate classes in $AGENT; rebuild it with mvn -B package -DskipTests -pl agent -am" 4
  printf "%-24s %-24s %-9s %6s %6s\n" hibernate-core class method plain woven
  for jar in agent/target/prewoven-libs/hibernate-core-*.jar; do
    v=$(basename "$jar" .jar)
    for cls in org/hibernate/engine/transaction/internal/TransactionImpl org/hibernate/engine/transaction/spi/AbstractTransactionImpl \
               org/hibernate/internal/SessionImpl; do
      unzip -p "$jar" "$cls.class" > "$tmp/plain.class" 2>/dev/null && [ -s "$tmp/plain.class" ] || continue
      # the woven entry of this very class file: its key is the class name, the file's length in hex, a hash
      woven=$(ls "$tmp/META-INF/sessionguard/woven/$(echo "$cls" | tr / .)-$(printf '%x' "$(wc -c < "$tmp/plain.class")")-"* 2>/dev/null | head -n 1)
      [ -n "$woven" ] || continue
      cp "$woven" "$tmp/woven.class"
      for m in commit rollback close flush; do
        p=$(codelen "$tmp/plain.class" "$m"); w=$(codelen "$tmp/woven.class" "$m")
        [ -n "$p" ] && [ -n "$w" ] && [ "$p" != "$w" ] && printf "%-24s %-24s %-9s %6s %6s\n" "${v#hibernate-core-}" "${cls##*/}" "$m" "$p" "$w"
      done
    done
  done
  exit 0
fi
if [ "${1:-}" = paired ]; then
  # scripts/bench.sh paired [JVMs] [seconds per operation] [control]: the end-to-end workload twice in each JVM, a
  # copy woven and a copy left as it is, in alternating batches (Paired); the copies set up in the other order in
  # every other JVM; then per operation the mean over the JVMs of their median throughput ratio, with its 95% interval
  # (Student's t over the JVMs). "control": both copies left as they are (an A/A run of the harness).
  jvms=${2:-4}; secs=${3:-20}; out=$(mktemp); trap 'rm -f "$out"' EXIT
  for j in $(seq 1 "$jvms"); do
    arg=$([ "${4:-}" = control ] && echo control || { [ $((j % 2)) = 0 ] && echo plain-first || echo woven-first; })
    echo "-- JVM $j ($arg)"
    "$JAVA" "-javaagent:$AGENT=log=off" -Xms1g -Xmx1g -cp "$CP" dev.sessionguard.benchmarks.Paired "$secs" 10 "$arg" 2>&1 \
      | grep -v '^SLF4J' | tee -a "$out" || fail "the paired run failed (its output is above)" 4
  done
  echo "over $jvms JVMs: mean of the JVMs' median throughput ratio woven/plain [95% interval, Student's t over the JVMs]"
  awk '$1 ~ /^(jdbcCommit|jdbcRollback|hibernateCommit)$/ {n[$1]++; s[$1] += $8; q[$1] += $8 * $8}
    END {
      split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179", t, " ")
      for (k in n) {
        m = s[k] / n[k]; sd = n[k] > 1 ? sqrt((q[k] - n[k] * m * m) / (n[k] - 1)) : 0
        df = n[k] - 1; tq = df < 1 ? 0 : (df <= 12 ? t[df] : 2.1); e = tq * sd / sqrt(n[k])
        printf "%-16s %.4f [%.4f, %.4f]   (%d JVMs, sd %.4f)\n", k, m, m - e, m + e, n[k], sd
      }
    }' "$out" | sort
  exit 0
fi
"$JAVA" -cp "$CP" dev.sessionguard.benchmarks.Compare "$AGENT" "${1:-2}" "${2:-3}" "${3:-5}" ${4:+"$4"} \
  | grep -v '^# \(JMH\|VM\|Blackhole\|Warmup\|Measurement\|Timeout\|Threads\|Benchmark mode\)'
