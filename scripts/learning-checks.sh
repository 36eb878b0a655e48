#!/usr/bin/env bash
# Trains every algorithm's preset on the classic environments over seeds 0, 1 and 2 (the
# sweep in scripts/learning-checks.yaml, one trial per core), then gates each run with
# `agentlab eval` (greedy, 100 episodes, the environment's threshold). Prints the sweep's
# table and one line per run; exits 1 when any run falls short.
#
#   scripts/learning-checks.sh                      # 36 runs: about 20 minutes on 2 cores
#   scripts/learning-checks.sh my-checks.yaml       # another spec (say, Breakout: hours)
#   OUT=runs/lc scripts/learning-checks.sh          # where the sweep folder goes
# A stopped check resumes where it stopped when run again with the same OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
SPEC=${1:-scripts/learning-checks.yaml}
OUT=${OUT:-runs/learning-checks}

swift build -c release --product agentlab >/dev/null || exit 2
agentlab=.build/release/agentlab
if [ -f "$OUT/spec.yaml" ]; then
  "$agentlab" sweep --resume "$OUT" || exit $?
else
  "$agentlab" sweep "$SPEC" --out "$OUT" || exit $?
fi
"$agentlab" eval "$OUT"/trials/*/ --episodes 100
