#!/usr/bin/env bash
# The local backend's speed: the 12-trial sweep in ppo-cartpole-12.yaml run one trial at a
# time (each trial on every core) and two at a time (one core each), back to back. Prints
# both wall times, the speed-up, and the sweep's own overhead: its wall time beyond the
# sum of its trials' times, as a share of that sum (one at a time, where nothing overlaps).
#   benchmarks/sweep/speed.sh [AGENTLAB_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
agentlab=${1:-.build/release/agentlab}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() { awk '/ trials in / { print $4 }' "$1"; }
trial_seconds() { awk '/ trials in / { gsub(/\(/, "", $6); print $6 }' "$1"; }
for parallel in 1 2; do
  "$agentlab" sweep benchmarks/sweep/ppo-cartpole-12.yaml --out "$out/p$parallel" --parallel "$parallel" > "$out/p$parallel.txt"
  grep ' trials in ' "$out/p$parallel.txt"
done
awk -v one="$(seconds "$out/p1.txt")" -v two="$(seconds "$out/p2.txt")" -v sum="$(trial_seconds "$out/p1.txt")" 'BEGIN {
  printf "one at a time: %.1f s; two at a time: %.1f s; speed-up %.2fx (target 1.8x)\n", one, two, one / two
  printf "sweep overhead, one at a time: %.1f s over %.1f s of trials = %.1f%% (target < 5%%)\n", one - sum, sum, 100 * (one - sum) / sum
}'
cmp <(cut -d, -f1-6 "$out/p1/trials.csv") <(cut -d, -f1-6 "$out/p2/trials.csv") && echo "trials.csv: the same objectives either way"
