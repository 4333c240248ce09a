#!/usr/bin/env bash
# Runs the session-level scenarios whose outcome two threads decide (s16, s17: close()/rollback() from
# another thread during a commit; s19: rollback after the factory released the connection; s20, s21, s22:
# close() during a rollback, a direct flush, a commit's flush) N times each with the agent, two runs at a
# time, and prints each distinct outcome with how often it came: one line per scenario means the same
# outcome every run.
#   scripts/repeat-scenarios.sh [N] [versions, e.g. "6.6" or "5.4 5.6 6.6 7.4"] [databases]
# Builds what it needs; needs the PostgreSQL server (127.0.0.1:5432) for postgres (s19 runs there only).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-20}
VERSIONS=${2:-5.4 5.6 6.6 7.4}
DBS=${3:-h2 postgres}
SCENARIOS="s16 s17 s19 s20 s21 s22"
JDK25=${SG_JAVA25_HOME:-$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n 1)}

. scripts/lib.sh
modules=()
for v in $VERSIONS; do modules+=("test-apps/hibernate-$v"); done
sg_build "${modules[@]}"
sg_check_agent

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run_one() { # version scenario db i
  local dir="test-apps/hibernate-$1" java=$JAVA
  if [ "$1" = 7.4 ] && [ -n "$JDK25" ]; then java="$JDK25/bin/java"; fi
  local f="$out/$1-$2-$3-$4"
  "$java" "-javaagent:agent/target/sessionguard-agent.jar=report=$f.json" \
      -cp "$dir/target/classes:$(cat "$dir/target/classpath.txt")" dev.sessionguard.scenarios.Scenarios "$2" "$3" > "$f.out" 2>&1 || true
  local waited
  waited=$(grep -o '"close.waited": [0-9]*' "$f.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)
  grep '^RESULT \(call\|commit\|other\|otherState\|rows\|active\|cleanup\|caller\|crash\)=' "$f.out" \
      | sed 's/^RESULT //; s/@[0-9a-f]*//g' | cut -c1-90 | tr '\n' '|' > "$f.line"
  echo "close.waited=${waited:-0}" >> "$f.line"
}

start=$(date +%s)
for v in $VERSIONS; do
  for db in $DBS; do
    for sc in $SCENARIOS; do
      if [ "$sc" = s19 ] && [ "$db" != postgres ]; then continue; fi
      for i in $(seq 1 "$REPS"); do
        run_one "$v" "$sc" "$db" "$i" &
        if (( i % 2 == 0 )); then wait; fi
      done
      wait
      echo "== Hibernate $v, $sc, $db: $REPS runs with the agent"
      cat "$out/$v-$sc-$db-"*.line | sort | uniq -c | sed 's/^/   /'
    done
  done
done
echo "($(( $(date +%s) - start )) s)"
