#!/usr/bin/env bash
# Start-up cost of SessionGuard beside the agents production services already run (the OpenTelemetry Java
# agent, Datadog's dd-java-agent, Elastic's APM agent; the jars test-apps/spring-boot-legacy copies from Maven
# Central), measured, not asserted: the Spring Boot 2.7 shop (Tomcat, Spring Data JPA, Hibernate 5.6, HikariCP,
# PostgreSQL) starts, takes one order over HTTP and stops, N rounds; each round runs, in turn, no agent,
# SessionGuard alone, and for each other agent that agent alone and that agent first with SessionGuard
# after it, cold (cache=off) and warm (a cache filled by one run before the rounds). Medians, and what each
# adds. scripts/other-agents.sh [N]. Needs PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
. scripts/lib.sh
sg_build test-apps/spring-boot-legacy
sg_check_agent
sg_need_port 5432 PostgreSQL "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
OTHERS=test-apps/spring-boot-legacy/target/other-agents
[ -f "$OTHERS/otel.jar" ] || fail "$OTHERS has no agent jars; run mvn -B package -DskipTests -pl test-apps/spring-boot-legacy -am" 3
SB_CP="test-apps/spring-boot-legacy/target/classes:$(cat test-apps/spring-boot-legacy/target/classpath.txt)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# the other agents' options: no backend to send to (the same as OtherAgentsTest, less logging)
OTEL=(-javaagent:$OTHERS/otel.jar -Dotel.traces.exporter=none -Dotel.metrics.exporter=none -Dotel.logs.exporter=none)
DD=(-javaagent:$OTHERS/datadog.jar -Ddd.writer.type=LoggingWriter -Ddd.jmxfetch.enabled=false -Ddd.profiling.enabled=false
    -Ddd.instrumentation.telemetry.enabled=false -Ddd.remote_config.enabled=false)
EL=(-javaagent:$OTHERS/elastic.jar -Delastic.apm.disable_send=true -Delastic.apm.central_config=false
    -Delastic.apm.metrics_interval=0s -Delastic.apm.cloud_provider=none -Delastic.apm.service_name=shop)
SG=("-javaagent:$AGENT=cache=off")
SGW=("-javaagent:$AGENT=cache=$TMP/cache")
APP=(-cp "$SB_CP" dev.sessionguard.apps.shop.LegacyShop "$TMP/sb" startup)

ms() { local s e; s=$(date +%s%N); "$JAVA" "$@" "${APP[@]}" >"$TMP/run.log" 2>&1 || fail "a run failed: $JAVA $* ...: $(tail -n 1 "$TMP/run.log" | cut -c1-200)" 4; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# one run beside each fills the warm cache (the classes another agent changed are keyed by their bytes)
"$JAVA" "${OTEL[@]}" "${SGW[@]}" "${APP[@]}" >"$TMP/run.log" 2>&1 || fail "filling the cache beside OpenTelemetry failed" 4
"$JAVA" "${DD[@]}" "${SGW[@]}" "${APP[@]}" >"$TMP/run.log" 2>&1 || fail "filling the cache beside Datadog failed" 4
"$JAVA" "${EL[@]}" "${SGW[@]}" "${APP[@]}" >"$TMP/run.log" 2>&1 || fail "filling the cache beside Elastic failed" 4
declare -A T
for i in $(seq 1 "$N"); do
  T[none]+="$(ms) "
  T[sg]+="$(ms "${SG[@]}") "
  T[otel]+="$(ms "${OTEL[@]}") "
  T[otel+sg]+="$(ms "${OTEL[@]}" "${SG[@]}") "
  T[otel+sgw]+="$(ms "${OTEL[@]}" "${SGW[@]}") "
  T[dd]+="$(ms "${DD[@]}") "
  T[dd+sg]+="$(ms "${DD[@]}" "${SG[@]}") "
  T[dd+sgw]+="$(ms "${DD[@]}" "${SGW[@]}") "
  T[el]+="$(ms "${EL[@]}") "
  T[el+sg]+="$(ms "${EL[@]}" "${SG[@]}") "
  T[el+sgw]+="$(ms "${EL[@]}" "${SGW[@]}") "
done
m() { printf '%s\n' ${T[$1]} | median; }
none=$(m none)
echo "median of $N rounds, $(nproc) cores, $("$JAVA" -version 2>&1 | head -n 1); Spring Boot 2.7 shop start + one order + stop"
printf '%-46s %6s ms\n' "no agent" "$none"
printf '%-46s %6s ms   +%5d ms\n' "SessionGuard alone, cold" "$(m sg)" $(( $(m sg) - none ))
for a in otel:"OpenTelemetry $(unzip -p $OTHERS/otel.jar META-INF/MANIFEST.MF | grep -m1 Implementation-Version | tr -d '\r' | cut -d' ' -f2)" \
         dd:"Datadog $(unzip -p $OTHERS/datadog.jar META-INF/MANIFEST.MF | grep -m1 Implementation-Version | tr -d '\r' | cut -d' ' -f2)" \
         el:"Elastic APM $(unzip -p $OTHERS/elastic.jar META-INF/MANIFEST.MF | grep -m1 Implementation-Version | tr -d '\r' | cut -d' ' -f2)"; do
  k=${a%%:*}; name=${a#*:}
  alone=$(m "$k"); both=$(m "$k+sg"); warm=$(m "$k+sgw")
  printf '%-46s %6s ms   +%5d ms\n' "$name alone" "$alone" $(( alone - none ))
  printf '%-46s %6s ms   +%5d ms (SessionGuard beside it: +%d ms)\n' "$name, then SessionGuard cold" "$both" $(( both - none )) $(( both - alone ))
  printf '%-46s %6s ms   +%5d ms (SessionGuard beside it: +%d ms)\n' "$name, then SessionGuard warm" "$warm" $(( warm - none )) $(( warm - alone ))
done
