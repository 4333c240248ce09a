#!/usr/bin/env bash
# The demo: a legacy Hibernate order service on embedded H2 goes through a shutdown-and-interrupt storm,
# once without SessionGuard and once with it, and the two outcomes are printed side by side.
#   scripts/demo.sh            build what is missing or out of date (the agent jar too), run legacy-h2 without
#                              and with the agent; exit 0 when both runs ended and printed their summary
#   scripts/demo.sh --app NAME run another app: legacy-h2 (default, embedded H2), jdbc-worker (plain JDBC,
#                              MariaDB), hikari-postgres (Hibernate 6.6, PostgreSQL), spring-boot-legacy (Boot 2.7,
#                              PostgreSQL); --storm kill|poolclose|exit|cancel|shutdownNow|random, --pool dbcp2|c3p0
#                              (legacy-h2 with --storm runs under that storm instead of the demo's fixed one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
APP=legacy-h2
POOL=c3p0
STORM=kill
STORM_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --app) APP="${2:-}"; shift 2 ;;
    --pool) POOL="${2:-}"; shift 2 ;;
    --storm) STORM="${2:-}"; STORM_SET=1; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$APP" in
  legacy-h2)
    if [ "$STORM_SET" = 1 ]; then
      # the same service under one storm of the app kit (shutdownNow, cancel, exit, poolclose, random)
      MAIN=dev.sessionguard.demo.LegacyH2Storms; ARGS=("$STORM" "${SEED:-20261128}"); VERIFY=
    else
      # the demo: the fixed two-step storm (shutdownNow, then System.exit), the database read afterwards
      MAIN=dev.sessionguard.demo.LegacyOrderService; ARGS=(); VERIFY=dev.sessionguard.demo.Verify
    fi ;;
  jdbc-worker)
    MAIN=dev.sessionguard.apps.JdbcWorker; ARGS=("$POOL" "$STORM" "${SEED:-20261128}"); VERIFY=
    NEEDS="MariaDB on 127.0.0.1:3306 (user root, empty password, database test)"; PORT=3306
    START="start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" ;;
  hikari-postgres|spring-boot-legacy)
    if [ "$APP" = hikari-postgres ]; then MAIN=dev.sessionguard.apps.HikariPostgres; else MAIN=dev.sessionguard.apps.shop.LegacyShop; fi
    ARGS=("$STORM" "${SEED:-20261128}"); VERIFY=
    NEEDS="PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, database test)"; PORT=5432
    START="pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" ;;
  *)
    echo "no app '$APP'; available: legacy-h2, jdbc-worker, hikari-postgres, spring-boot-legacy" >&2
    exit 2 ;;
esac
. scripts/lib.sh
if [ -n "${PORT:-}" ]; then
  sg_need_port "$PORT" "$NEEDS for --app $APP" "$START"
fi

sg_build "test-apps/$APP"
sg_check_agent
CP="$ROOT/test-apps/$APP/target/classes:$(cat "test-apps/$APP/target/classpath.txt")"
OUT="$ROOT/target/demo"
rm -rf "$OUT"; mkdir -p "$OUT/without" "$OUT/with"

run() { # run <label> <dir> [agent flag]
  local label=$1 dir=$2; shift 2
  echo "== $label"
  local start=$(date +%s)
  "$JAVA" "$@" -cp "$CP" "$MAIN" "$dir" ${ARGS[@]+"${ARGS[@]}"} 2>"$dir/stderr.log" | tee "$dir/stdout.log" | grep -E '^(  \.\.|seed )' || true
  if [ ! -s "$dir/summary.txt" ]; then
    fail "the run $label wrote no summary; its JVM said: $(grep -h -m1 -E 'Error|Exception|sessionguard\]' "$dir/stderr.log" "$dir/stdout.log" 2>/dev/null | head -n 1 | cut -c1-200) (all of it in $dir/stderr.log)" 4
  fi
  if [ -n "$VERIFY" ] && ! "$JAVA" -cp "$CP" "$VERIFY" "$dir" 2>>"$dir/stderr.log"; then
    fail "reading the database after the run $label failed: $(tail -n 1 "$dir/stderr.log" | cut -c1-200) (all of it in $dir/stderr.log)" 4
  fi
  echo "   done in $(( $(date +%s) - start )) s"
}
run "without SessionGuard" "$OUT/without"
run "with SessionGuard (-javaagent:$AGENT)" "$OUT/with" "-javaagent:$ROOT/$AGENT=log=info,report=$OUT/with/report.json"

echo
printf '%-30s | %-70s | %s\n' "" "WITHOUT the agent" "WITH the agent"
printf '%s\n' "-------------------------------+------------------------------------------------------------------------+----------------------"
while IFS='=' read -r key value; do
  other=$(grep -m1 "^$key=" "$OUT/with/summary.txt" | cut -d= -f2-)
  printf '%-30s | %-70s | %s\n' "$key" "${value:0:70}" "$other"
done < "$OUT/without/summary.txt"
echo
echo "What the agent did (events from $OUT/with/report.json):"
grep -E '"[a-zA-Z.]+/?[a-z]*": [1-9]' "$OUT/with/report.json" | grep '/' | sed 's/[",]//g; s/^ */  /' || echo "  (no report written)"
echo
echo "Without the agent, the service's log said (most frequent errors in $OUT/without/):"
cat "$OUT/without/stderr.log" "$OUT/without/stdout.log" 2>/dev/null \
  | grep -E "^(ERROR|SEVERE|WARNING|WARN):| ERROR [0-9]+ --- " | sed -E 's/^.* ERROR [0-9]+ --- \[[^]]*\] [^ ]+ *: /ERROR: /' \
  | sort | uniq -c | sort -rn | head -n 3 | cut -c1-180 | sed 's/^/  /' || true
echo "With it, the agent logged (logger 'sessionguard'):"
# java.util.logging writes "[sessionguard] kind reason=..." to stderr; an app with SLF4J (Spring's logback) logs
# "... sessionguard : kind reason=..." to its own console
cat "$OUT/with/stderr.log" "$OUT/with/stdout.log" 2>/dev/null | grep -E "sessionguard\]? *:? [a-z]+\.[a-zA-Z]+ reason" \
  | sed 's/ thread=.*//; s/ exception=.*//; s/^.*sessionguard\]* *:* */  /' | sort | uniq -c | head -n 6 | cut -c1-200 || true
