#!/usr/bin/env bash
# Start-up cost of the agent, measured, not asserted: the same JVM command N times without the agent, with a
# no-op agent (the floor under any -javaagent) and with SessionGuard, the three in turn (the order rotated each
# round); per case the medians, their ratio, and the median of the per-round differences with a distribution-free
# 95% interval (wall time and CPU time); where issue #14 sets a target (cold +150 ms, warm +50 ms: Hibernate 5.6
# and Spring Boot 3), whether the interval shows it met, not met, or neither (within the error).
# scripts/startup.sh [N]   (default 15 rounds)
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
# SG_JVM_OPTS="-XX:SharedArchiveFile=app.jsa" adds JVM options to every run (without, no-op agent and with alike),
#   e.g. a CDS archive dumped with the java.instrument module (README, "The floor under any agent").
# SG_NOOP_TRANSFORMER=1: the no-op agent registers a transformer that changes nothing (the floor under any agent
#   that transforms classes as they load, not only under -javaagent).
# SG_AOT=1 (JDK 25 and later): each of the three variants of a case starts from an AOT cache of its own
#   (JEP 483/514), made by one training run of that same command (-XX:AOTCacheOutput) before the rounds: what a
#   service that uses the AOT cache pays. Each program's classes go in a jar (an AOT class path has no
#   directories with files in them). SessionGuard stays off in its training run (docs/weaving.md, "AOT caches and
#   CDS dumps"); a training run that fails stops the script with the JVM's first error line.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-15}
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
JAVAC=${JAVA_HOME:+$JAVA_HOME/bin/}javac
JAR=${JAVA_HOME:+$JAVA_HOME/bin/}jar
AOT_CASES=0
if [ -n "${SG_AOT:-}" ]; then
  # the class path of an AOT cache holds jars and empty directories only: each program's classes in a jar
  app_jar() {
    "$JAR" cf "$TMP/$1.jar" -C "test-apps/$1/target/classes" . || fail "SG_AOT: cannot jar test-apps/$1/target/classes" 3
    echo "$TMP/$1.jar:$(cat "test-apps/$1/target/classpath.txt")"
  }
  CP=$(app_jar hibernate-5.6); SB_CP=$(app_jar spring-boot-legacy); SB3_CP=$(app_jar spring-boot-3); SB4_CP=$(app_jar spring-boot-4)
fi

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

# The floor under any agent: a jar whose premain does nothing. -javaagent alone makes the JVM add the
# java.instrument module and drop CDS's archived module graph; what SessionGuard adds is "with" minus this.
NOOP="$TMP/noop-agent.jar"
mkdir -p "$TMP/noop"
if [ -n "${SG_NOOP_TRANSFORMER:-}" ]; then
  # the floor under any agent that transforms classes as they load: a transformer that changes nothing, registered
  # as SessionGuard registers its own (retransform-capable); the JVM then calls it for every class it loads
  printf '%s\n' 'public class NoopAgent { public static void premain(String a, java.lang.instrument.Instrumentation i) {' \
    '  i.addTransformer(new java.lang.instrument.ClassFileTransformer() { }, true); } }' > "$TMP/noop/NoopAgent.java"
else
  printf 'public class NoopAgent { public static void premain(String a, java.lang.instrument.Instrumentation i) { } }\n' > "$TMP/noop/NoopAgent.java"
fi
printf 'Premain-Class: NoopAgent\n%s' "${SG_NOOP_TRANSFORMER:+Can-Retransform-Classes: true
}" > "$TMP/noop/manifest.txt"
if ! { "$JAVAC" -d "$TMP/noop" "$TMP/noop/NoopAgent.java" && "$JAR" cfm "$NOOP" "$TMP/noop/manifest.txt" -C "$TMP/noop" .; } >/dev/null 2>&1; then
  echo "(no javac/jar next to $JAVA: the no-op agent column is left out)"
  NOOP=
fi

# interval <column> <from> <to>: the median of the rounds' differences (to - from, in the column: 1 wall, 2 CPU) and a
# distribution-free 95% interval for it (order statistics k and N+1-k of the differences, the sign test's interval;
# 96.5% at N=15), as "median low high"; low and high are "-" when there are too few rounds
interval() {
  paste -d' ' <(cut -d' ' -f"$1" "$2") <(cut -d' ' -f"$1" "$3") | awk '{print $2 - $1}' | sort -n | awk '
    {d[NR] = $1}
    END {
      n = NR; k = 0; c = 0; p = 0.5 ^ n; b = 1
      for (i = 0; i < n; i++) { if (i > 0) b = b * (n - i + 1) / i; c += b * p; if (c > 0.025) break; k = i + 1 }
      m = (n % 2) ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
      if (k < 1) print m, "-", "-"; else print m, d[k], d[n + 1 - k]
    }'
}

# paired <column> <from> <to>: the interval printed as "+m [+low, +high]"
paired() {
  interval "$@" | awk '{ if ($2 == "-") printf "%+5d [n too small]", $1; else printf "%+5d [%+d, %+d]", $1, $2, $3 }'
}

# verdict <column> <from> <to> <target ms>: is the median difference within the target, given its interval?
verdict() {
  interval "$1" "$2" "$3" | awk -v t="$4" '{
    if ($2 == "-") print "n too small"
    else if ($3 <= t) print "target +" t " ms: met"
    else if ($2 > t) print "target +" t " ms: not met"
    else print "target +" t " ms: within the error"
  }'
}

measure() { # measure <label> <target ms, or -> <agent options> <command...>
  local label=$1 target=$2 opts=$3; shift 3
  # shellcheck disable=SC2206 # options split at spaces, as on a command line
  [ -z "${SG_JVM_OPTS:-}" ] || set -- ${SG_JVM_OPTS} "$@"
  local sg=("-javaagent:$AGENT${opts:+=$opts}")
  # a run that fails would time its failure: each command must run once cleanly, without and with the agent
  "$JAVA" "$@" >"$TMP/check.log" 2>&1 || fail "$label: the command fails without the agent: $(tail -n 1 "$TMP/check.log" | cut -c1-200)" 4
  "$JAVA" "${sg[@]}" "$@" >"$TMP/check.log" 2>&1 \
    || fail "$label: the command fails with the agent: $(grep -m1 -E 'Error|Exception|sessionguard\]' "$TMP/check.log" | cut -c1-200)" 4
  local aot_plain=() aot_noop=() aot_agent=()
  if [ -n "${SG_AOT:-}" ]; then
    # one training run per variant, the same command: each variant then starts from its own cache
    local base="$TMP/aot-$((++AOT_CASES))"
    train() { # train <variant> <what, for the message> <java arguments...>: its cache, or one line and exit
      local variant=$1 what=$2; shift 2
      "$JAVA" -XX:AOTCacheOutput="$base-$variant.aot" "$@" >"$TMP/aot.log" 2>&1 && [ -s "$base-$variant.aot" ] \
        || fail "$label: no AOT cache made $what (JDK 25 or later needed): $({ grep -m1 -iE 'fatal error|\[error\]' "$TMP/aot.log" || grep -m1 -iE 'error|exception' "$TMP/aot.log"; } | cut -c1-200)" 4
    }
    train plain "without the agent" "$@"
    [ -z "$NOOP" ] || train noop "with the no-op agent" "-javaagent:$NOOP" "$@"
    train agent "with the agent" "${sg[@]}" "$@"
    aot_plain=(-XX:AOTCache="$base-plain.aot"); aot_noop=(-XX:AOTCache="$base-noop.aot"); aot_agent=(-XX:AOTCache="$base-agent.aot")
  fi
  : > "$TMP/t-plain"; : > "$TMP/t-noop"; : > "$TMP/t-agent"
  local i r v
  for i in $(seq 1 "$N"); do
    # the three variants in turn, the order rotated every round (nothing always runs right after the same one)
    for r in 0 1 2; do
      v=$(( (i + r) % 3 ))
      if [ $v = 0 ]; then ms "$JAVA" "${aot_plain[@]}" "$@" >> "$TMP/t-plain"
      elif [ $v = 1 ]; then [ -z "$NOOP" ] || ms "$JAVA" "${aot_noop[@]}" "-javaagent:$NOOP" "$@" >> "$TMP/t-noop"
      else ms "$JAVA" "${aot_agent[@]}" "${sg[@]}" "$@" >> "$TMP/t-agent"
      fi
    done
  done
  local p a pc ac
  p=$(cut -d' ' -f1 "$TMP/t-plain" | median); a=$(cut -d' ' -f1 "$TMP/t-agent" | median)
  pc=$(cut -d' ' -f2 "$TMP/t-plain" | median); ac=$(cut -d' ' -f2 "$TMP/t-agent" | median)
  printf '%s\n' "$label"
  printf '    wall  without %5d   with %5d ms   ratio %s   added %s' "$p" "$a" \
    "$(awk -v a="$a" -v p="$p" 'BEGIN {printf "%.2f", a / p}')" "$(paired 1 "$TMP/t-plain" "$TMP/t-agent")"
  [ -z "$NOOP" ] || printf '   floor %s   own %s' "$(paired 1 "$TMP/t-plain" "$TMP/t-noop")" "$(paired 1 "$TMP/t-noop" "$TMP/t-agent")"
  [ "$target" = - ] || printf '   %s' "$(verdict 1 "$TMP/t-plain" "$TMP/t-agent" "$target")"
  printf '\n    cpu   without %5d   with %5d ms               added %s' "$pc" "$ac" "$(paired 2 "$TMP/t-plain" "$TMP/t-agent")"
  [ -z "$NOOP" ] || printf '   floor %s   own %s' "$(paired 2 "$TMP/t-plain" "$TMP/t-noop")" "$(paired 2 "$TMP/t-noop" "$TMP/t-agent")"
  printf '\n'
}
want() { [ -z "${SG_ONLY:-}" ] || [[ " $SG_ONLY " == *" $1 "* ]]; }
echo "added: with - without; floor: a no-op agent - without; own: with - the no-op agent; each the median of the"
echo "rounds' differences [its 95% interval]"
echo "$N rounds (without, no-op agent, with), $(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1)${SG_JVM_OPTS:+, JVM options: $SG_JVM_OPTS}${SG_AOT:+, each variant from its own AOT cache}${SG_NOOP_TRANSFORMER:+, the no-op agent with a transformer that changes nothing}"
want version && measure "java -version (no target classes)" - "cache=$TMP/cache" -version
if want hibernate; then
  measure "Hibernate 5.6 + Hikari + H2, cold (cache=off)" 150 "cache=off" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
  if [ -z "${SG_AGENT:-}" ]; then # an older jar may not know the option
    measure "  the same, untested versions (shipped=off)" - "cache=off,shipped=off" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
  fi
  # one run fills the cache; the measured runs are restarts with the same libraries
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2 >/dev/null 2>&1
  echo "cache filled: $(ls "$TMP"/cache/*/ | wc -l) entries"
  measure "Hibernate 5.6 + Hikari + H2, warm (cache filled)" 50 "cache=$TMP/cache" -Dsg.dir="$TMP/h2" -cp "$CP" dev.sessionguard.scenarios.Scenarios s9 h2
fi
if want boot27; then
  measure "Spring Boot 2.7 + JPA + Hikari + PG, cold" - "cache=off" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup >/dev/null 2>&1
  measure "Spring Boot 2.7 + JPA + Hikari + PG, warm" - "cache=$TMP/cache" -cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
fi
for boot in 3 4; do
  want "boot$boot" || continue
  cp_var="SB${boot}_CP"
  measure "Spring Boot $boot + JPA + Hikari + PG, cold" "$([ $boot = 3 ] && echo 150 || echo -)" "cache=off" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
  "$JAVA" "-javaagent:$AGENT=cache=$TMP/cache" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup >/dev/null 2>&1
  measure "Spring Boot $boot + JPA + Hikari + PG, warm" "$([ $boot = 3 ] && echo 50 || echo -)" "cache=$TMP/cache" -cp "${!cp_var}" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup
done
