#!/usr/bin/env bash
# Trains every algorithm's preset on the classic environments over seeds 0, 1 and 2 and
# gates each run with `agentlab eval` (greedy, 100 episodes, the environment's threshold).
# Prints one line per run and a summary; exits 1 when any run falls short.
#
#   scripts/learning-checks.sh                 # all algorithms, CartPole and the grid worlds
#   ALGOS="ppo dqn" ENVS=CartPole-v1 scripts/learning-checks.sh
#   SEEDS="0" ENVS=Breakout-MinAtar ALGOS=ppo scripts/learning-checks.sh   # hours on 2 cores
set -uo pipefail
cd "$(dirname "$0")/.."
ALGOS=${ALGOS:-"ppo dqn a2c reinforce"}
ENVS=${ENVS:-"CartPole-v1 GridWorld-v0 GridWorld-Cliff-v0"}
SEEDS=${SEEDS:-"0 1 2"}
OUT=${OUT:-runs/learning-checks}

swift build -c release --product agentlab >/dev/null || exit 2
agentlab=.build/release/agentlab
mkdir -p "$OUT"
failures=0
printf '%-22s %-10s %-5s %9s %8s %s\n' environment algorithm seed train_s return verdict
for env in $ENVS; do
  for algo in $ALGOS; do
    for seed in $SEEDS; do
      run="$OUT/$env-$algo-seed$seed"
      start=$(date +%s.%N)
      if ! "$agentlab" train --env "$env" --algo "$algo" --seed "$seed" --out "$run" --force >"$run.log" 2>&1; then
        printf '%-22s %-10s %-5s %9s %8s %s\n' "$env" "$algo" "$seed" - - "TRAINING FAILED (see $run.log)"
        failures=$((failures + 1)); continue
      fi
      seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
      "$agentlab" eval "$run" --json "$run.eval.json" >"$run.eval.txt"
      status=$?
      mean=$(awk '$1 == "return" { print $2; exit }' "$run.eval.txt")
      verdict=$([ $status -eq 0 ] && echo pass || echo FAIL)
      [ $status -eq 0 ] || failures=$((failures + 1))
      printf '%-22s %-10s %-5s %9.2f %8s %s\n' "$env" "$algo" "$seed" "$seconds" "$mean" "$verdict"
    done
  done
done
echo "failures: $failures"
[ $failures -eq 0 ]
