#!/usr/bin/env bash
# The learning checks of agents with memory, seeds 0, 1 and 2, one run at a time:
# recurrent PPO (its presets) and feed-forward PPO with the same settings on
# CartPole-NoVelocity-v1 and TMaze-v0, and DQN with LayerNorm on CartPole-v1. Each run is
# evaluated greedily over 100 episodes; the T-maze line also gives the share of episodes
# that reached the arm the cue named (a return above 0). Exits 1 when a recurrent or
# LayerNorm run misses its bar (475; 95% of T-maze episodes; 475).
#
#   scripts/memory/memory-checks.sh            # about 20 minutes on one core
#   OUT=runs/memory scripts/memory/memory-checks.sh
#   THREADS=1 scripts/memory/memory-checks.sh  # leave a core free (results are the same)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/memory-checks}
here=scripts/memory
swift build -c release --product agentlab >/dev/null || exit 2
agentlab=.build/release/agentlab
mkdir -p "$OUT"
failed=0

# run NAME BAR KIND ARGS...: trains (unless done), evaluates, prints one line.
run() {
  local name=$1 bar=$2 kind=$3; shift 3
  [ -f "$OUT/$name/checkpoint.json" ] ||
    "$agentlab" train "$@" ${THREADS:+--threads "$THREADS"} --out "$OUT/$name" --force >/dev/null || exit 2
  "$agentlab" eval "$OUT/$name" --episodes 100 --no-threshold --json "$OUT/$name.json" \
    ${THREADS:+--threads "$THREADS"} >/dev/null || exit 2
  python3 - "$OUT/$name.json" "$name" "$bar" "$kind" <<'PY' || failed=1
import json, sys
path, name, bar, kind = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
returns = json.load(open(path))[0]["episode_returns"]
mean = sum(returns) / len(returns)
right = sum(1 for r in returns if r > 0) / len(returns)
line = f"{name:28s} greedy mean {mean:8.2f}"
if kind == "tmaze":
    line += f"  right arm {100 * right:5.1f}%"
    value = right
else:
    value = mean
if bar != -1:
    line += "  PASS" if value >= bar else "  FAIL"
print(line)
sys.exit(0 if bar == -1 or value >= bar else 1)
PY
}

for seed in 0 1 2; do
  run "recurrent-novelocity-$seed" 475 mean --env CartPole-NoVelocity-v1 --algo recurrent_ppo --seed $seed
  run "feedforward-novelocity-$seed" -1 mean --env CartPole-NoVelocity-v1 --algo ppo --seed $seed \
    --config $here/feed-forward-cartpole-novelocity.yaml
  run "recurrent-tmaze-$seed" 0.95 tmaze --env TMaze-v0 --algo recurrent_ppo --seed $seed
  run "feedforward-tmaze-$seed" -1 tmaze --env TMaze-v0 --algo ppo --seed $seed --config $here/feed-forward-tmaze.yaml
  run "dqn-layernorm-cartpole-$seed" 475 mean --env CartPole-v1 --algo dqn --seed $seed --config $here/dqn-layernorm.yaml
done
exit $failed
