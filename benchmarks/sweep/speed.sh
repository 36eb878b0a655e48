#!/usr/bin/env bash
# The local backend's speed: the 12-trial sweep in ppo-cartpole-12.yaml run one trial at a
# time on one core, one at a time on every core (a CartPole run gains from its second
# thread too), and two at a time on one core each, back to back. Prints the wall times,
# the speed-ups, and the sweep's own overhead: its wall time beyond the sum of its trials'
# times, as a share of that sum (one at a time, where nothing overlaps).
#   benchmarks/sweep/speed.sh [AGENTLAB_BINARY]      # OUT=DIR keeps the two sweep folders
set -euo pipefail
cd "$(dirname "$0")/../.."
agentlab=${1:-.build/release/agentlab}
if [ -n "${OUT:-}" ]; then
  out=$OUT; mkdir -p "$out"
else
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fi
seconds() { awk '/ trials in / { print $4 }' "$1"; }
trial_seconds() { awk '/ trials in / { gsub(/\(/, "", $6); print $6 }' "$1"; }
run() {  # name, then sweep flags
  local name=$1; shift
  "$agentlab" sweep benchmarks/sweep/ppo-cartpole-12.yaml --out "$out/$name" "$@" > "$out/$name.txt"
  printf '%-28s %s\n' "$name:" "$(grep ' trials in ' "$out/$name.txt")"
}
run one-at-a-time-1-thread --parallel 1 --threads 1
run one-at-a-time-all-cores --parallel 1
run two-at-a-time --parallel 2 --threads 1
awk -v single="$(seconds "$out/one-at-a-time-1-thread.txt")" -v all="$(seconds "$out/one-at-a-time-all-cores.txt")" \
    -v two="$(seconds "$out/two-at-a-time.txt")" -v sum="$(trial_seconds "$out/one-at-a-time-1-thread.txt")" 'BEGIN {
  printf "two at a time: %.2fx over one at a time on one core (target 1.8x), %.2fx over one at a time on every core\n", single / two, all / two
  printf "sweep overhead, one at a time: %.1f s over %.1f s of trials = %.1f%% (target < 5%%)\n", single - sum, sum, 100 * (single - sum) / sum
}'
cmp <(cut -d, -f1-6 "$out/one-at-a-time-1-thread/trials.csv") <(cut -d, -f1-6 "$out/two-at-a-time/trials.csv") \
  && cmp <(cut -d, -f1-6 "$out/one-at-a-time-all-cores/trials.csv") <(cut -d, -f1-6 "$out/two-at-a-time/trials.csv") \
  && echo "trials.csv: the same objectives every way"
