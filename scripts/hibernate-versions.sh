#!/usr/bin/env bash
# The protection scenarios (ProtectionScenariosTest: 21 scenarios on H2 and PostgreSQL, each without and with
# the agent) and Envers on the Hibernate versions no scenario module is built for. Each version is built and
# tested by the module of its line with the version swapped in (e.g. test-apps/hibernate-6.6 with
# -Dhibernate66.version=6.0.2.Final), one Maven run per version, its classes woven by Byte Buddy at run time
# (the jar ships prewoven classes only for the module versions). CI runs the module versions and scans these
# (ScannedVersionsTest); this is the full sweep. (4.0 to 4.2 are scanned only: their connection provider SPI
# is in another package, which the scenarios' source does not compile against.)
#   scripts/hibernate-versions.sh [version:module ...]   e.g. scripts/hibernate-versions.sh 6.0.2.Final:6.6
# (Versions whose hibernate-envers Maven Central serves: 7.0.0 and 7.3.2 rather than the newest patch.)
# Prints one line per version (tests, failures) and keeps each version's matrix in target/hibernate-versions/.
# Needs the PostgreSQL server (127.0.0.1:5432). The modules are cleaned afterwards (their classes were built
# against another version).
set -euo pipefail
cd "$(dirname "$0")/.."
SWEEP=${*:-5.0.12.Final:5.1 6.0.2.Final:6.6 6.1.7.Final:6.6 6.3.2.Final:6.6 6.5.3.Final:6.6 7.0.0.Final:7.4 7.1.10.Final:7.4 7.2.19.Final:7.4 7.3.2.Final:7.4}

. scripts/lib.sh
command -v mvn >/dev/null 2>&1 || fail "Maven (mvn) is not on the PATH; install it (apt-get install maven) and run again" 3
echo "== building the agent and the test support: mvn -q -B install -DskipTests"
mvn -q -B install -N
mvn -q -B install -DskipTests -pl instrumentation,agent,test-apps,test-apps/test-support,test-apps/app-kit \
  || fail "the build failed (mvn -B install -DskipTests -pl agent -am prints why)" 3

mkdir -p target/hibernate-versions
touched=()
summary=()
start=$(date +%s)
for entry in $SWEEP; do
  version=${entry%%:*}
  module=${entry##*:}
  line=$(echo "$version" | cut -d. -f1-2)
  property="hibernate$(echo "$module" | tr -d .).version"
  log="target/hibernate-versions/$line.log"
  echo "== Hibernate $version in test-apps/hibernate-$module (-D$property=$version)"
  touched+=("test-apps/hibernate-$module")
  rm -f "test-apps/hibernate-$module/target/"*.md
  if mvn -B verify -pl "test-apps/hibernate-$module" "-D$property=$version" "-Dsg.hibernate=$line" \
      -Dtest='ProtectionScenariosTest,EnversTest' -Dsurefire.failIfNoSpecifiedTests=false > "$log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
  fi
  tests=$(grep -E '^\[(INFO|ERROR|WARNING)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -n 1 \
    | sed 's/^\[[A-Z]*\] //' || true)
  cat "test-apps/hibernate-$module/target/"*.md > "target/hibernate-versions/$line.md" 2>/dev/null || true
  summary+=("Hibernate $version: $verdict (${tests:-no test summary; see $log})")
done
echo "== cleaning the modules built against other versions"
mvn -q -B clean -pl "$(printf '%s\n' "${touched[@]}" | sort -u | paste -sd, -)" || true
echo
printf '%s\n' "${summary[@]}"
echo "(matrices and logs in target/hibernate-versions/; $(( $(date +%s) - start )) s)"
