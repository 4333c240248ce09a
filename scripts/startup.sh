#!/usr/bin/env bash
# Start-up cost of the agent, measured, not asserted: the same JVM command N times without and with
# -javaagent, in alternation, and the medians and their ratio (wall time), and the medians of CPU time.
# scripts/startup.sh [N]
#   1. java -version: a JVM that loads no Hibernate or JDBC class
#   2. Scenarios s9: boots Hibernate 5.6 with HikariCP on H2 and runs a few transactions: cold (the
#      woven-class cache off: the tested versions' woven classes come from the jar), the same for
#      untested versions (shipped=off: Byte Buddy weaves), and warm (a restart reads the cache)
#   3. a Spring Boot 2.7 service (Tomcat, Spring Data JPA, Hibernate 5.6, HikariCP, PostgreSQL; about 13,000
#      classes loaded): start, one order over HTTP, stop; cold (cache=off) and warm. Needs PostgreSQL.
#   4. the same service on Spring Boot 3.5 (Hibernate 6.6, HikariCP 6) and on Spring Boot 4.0 (Hibernate 7.2,
#      HikariCP 7; not among the versions shipped woven, so Byte Buddy weaves them cold): cold and warm.
# SG_AGENT=<jar> measures another build of the agent jar (e.g. an older one, to compare).
# SG_ONLY="boot3 boot4" measures only those cases (version, hibernate, boot27, boot3, boot4).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
. scripts/lib.sh
sg_build test-apps/hibernate-5.6 test-apps/spring-boot-legacy test-apps/spring-boot-3 test-apps/spring-boot-4
AGENT=${SG_AGENT:-$AGENT}
sg_check_agent
sg_need_port 5432 PostgreSQL "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
CP="test-apps/hibernate-5.6/target/classes:$(cat test-apps/hibernate-5.6/target/classpath.txt)"
SB_CP="test-apps/spring-boot-legacy/target/classes:$(cat test-apps/spring-boot-legacy/target/classpath.txt)"
SB3_CP="test-apps/spring-boot-3/target/classes:$(cat test-apps/spring-boot-3/target/classpath.txt)"
SB4_CP="test-apps/spring-boot-4/target/classes:$(cat test-apps/spring-boot-4/target/classpath.txt)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# "wall cpu" of one run in ms: elapsed time, and user + system CPU time of the JVM (GNU time; 0 without it).
# On a shared 2-core machine wall time moves by several hundred ms between runs of a Spring Boot service;
# CPU time moves less, and what the agent adds to it is what it costs the host.
ms() {
  local s e f
  f=$(mktemp)
  s=$(date +%s%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$f" -f "%U %S" "$@" >/dev/null 2>&1
  else
    "$@" >/dev/null 2>&1; echo "0 0" > "$f"
  fi
  e=$(date +%s%N)
  echo "$(( (e - s) / 1000000 )) $(awk '{printf "%d", ($1 + $2) * 1000}' "$f")"
  rm -f "$f"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

measure() { # measure <label> <agent options> <command...>
  local label=$1 opts=$2; shift 2
  local plain=() agent=()
  # a run that fails would time its failure: each command must run once cleanly, without and with the agent
  "$JAVA" "$@" >"$TMP/check.log" 2>&1 || fail "$label: the command fails without the agent: $(tail -n 1 "$TMP/check.log" | cut -c1-200)" 4
  "$JAVA" "-javaagent:$AGENT${opts:+=$opts}" "$@" >"$TMP/check.log" 2>&1 \
    || fail "$label: the command fails with the agent: $(grep -m1 -E 'Error|Exception|sessionguard\]' "$TMP/check.log" | cut -c1-200)" 4
  for i in $(seq 1 "$N"); do
    plain+=("$(ms "$JAVA" "$@")")
    agent+=("$(ms "$JAVA" "-javaagent:$AGENT${opts:+=$opts}" "$@")")
  done
  local p a pc ac
  p=$(printf '%s\n' "${plain[@]}" | cut -d' ' -f1 | median)
  a=$(printf '%s\n' "${agent[@]}" | cut -d' ' -f1 | median)
  pc=$(printf '%s\n' "${plain[@]}" | cut -d' ' -f2 | median)
  ac=$(printf '%s\n' "${agent[@]}" | cut -d' ' -f2 | median)
  printf '%-50s without %5d ms   with %5d ms   +%4d ms   ratio %s   cpu %5d -> %5d ms (+%d)\n' "$label" "$p" "$a" $((a - p)) \
    "$(awk -v a="$a" -v p="$p" 'BEGIN {printf "%.2f", a / p}')" "$pc" "$ac" $((ac - pc))
}
want() { [ -z "${SG_ONLY:-}" ] || [[ " $SG_ONLY " == *" $1 "* ]]; }
echo "median of $N runs each, $(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1)"
want version && measure "java -version (no target classes)" "cache=$TMP/cache" -version
if want hibernate; then
  measure "Hibernate 5.6 + Hikari + H2, cold (cache=off)" "cache=off" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
  if [ -z "${SG_AGENT:-}" ]; then # an older jar may not know the option
    measure "  the same, untested versions (shipped=off)" "cache=off,shipped=off" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
  fi
  # one run fills the cache; the measured runs are restarts with the same libraries
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2 >/dev/null 2>&1
  echo "cache filled: $(ls "$TMP"/cache/*/ | wc -l) entries"
  measure "Hibernate 5.6 + Hikari + H2, warm (cache filled)" "cache=$TMP/cache" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
fi
if want boot27; then
  measure "Spring Boot 2.7 + JPA + Hikari + PG, cold" "cache=off" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup >/dev/null 2>&1
  measure "Spring Boot 2.7 + JPA + Hikari + PG, warm" "cache=$TMP/cache" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
fi
for boot in 3 4; do
  want "boot$boot" || continue
  cp_var="SB${boot}_CP"
  measure "Spring Boot $boot + JPA + Hikari + PG, cold" "cache=off" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup >/dev/null 2>&1
  measure "Spring Boot $boot + JPA + Hikari + PG, warm" "cache=$TMP/cache" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
done
