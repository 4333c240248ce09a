#!/usr/bin/env bash
# Runs the 10 concurrency edge-case tests with N repetitions each (default 20) against Hibernate versions
# (default all three), to show they are not flaky:
#   scripts/repeat-concurrency.sh [N] [seed] [versions, e.g. "6.6" or "5.6 6.6 7.4"]
# Builds what it needs; needs the PostgreSQL server (127.0.0.1:5432) and writes each module's
# target/concurrency-matrix.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-20}
SEED=${2:-20261128}
VERSIONS=${3:-5.6 6.6 7.4}
for v in $VERSIONS; do
  echo "== Hibernate $v: 10 concurrency tests x $REPS repetitions with the agent (seed $SEED)"
  mvn -B -q verify -pl "agent,test-apps/hibernate-$v" -am -DskipITs -Dtest=ConcurrencyTest -Dsurefire.failIfNoSpecifiedTests=false \
      -Dsg.concurrency.reps="$REPS" -Dsg.seed="$SEED"
  sed 's/^/   /' "test-apps/hibernate-$v/target/concurrency-matrix.md"
done
