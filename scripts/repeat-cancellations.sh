#!/usr/bin/env bash
# Runs the 10 cancellation stress tests with N repetitions each (default 20) against every Hibernate
# version, to show they are not flaky: scripts/repeat-cancellations.sh [N] [seed]
# Builds what it needs (the agent and the module); the tests run on embedded H2, no server needed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-20}
SEED=${2:-20261128}
for v in 5.6 6.6 7.4; do
  echo "== Hibernate $v: 10 cancellation tests x $REPS repetitions with the agent (seed $SEED)"
  mvn -B -q verify -pl "agent,test-apps/hibernate-$v" -am -DskipITs -Dtest=CancellationsTest -Dsurefire.failIfNoSpecifiedTests=false \
      -Dsg.cancellation.reps="$REPS" -Dsg.seed="$SEED"
  sed 's/^/   /' "test-apps/hibernate-$v/target/cancellation-matrix.md"
done
