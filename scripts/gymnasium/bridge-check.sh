#!/usr/bin/env bash
# The Gymnasium bridge's interoperability check, as CI runs it:
#   scripts/gymnasium/bridge-check.sh AGENTLAB_BINARY NATIVE_CARTPOLE_PPO_RUN
#
# Installs a pinned Gymnasium into a virtual environment, then:
#   1. the worker's protocol self-test (Tests/Fixtures/gymnasium/drive_worker.py);
#   2. the Swift bridge tests (`swift test --filter Gymnasium`), which skip without gymnasium;
#   3. the natively trained PPO run given, played greedily on Gymnasium's own CartPole-v1
#      through the bridge, must score 500 over 100 episodes;
#   4. PPO trained through the bridge on Gymnasium's Acrobot-v1 (seed 0, its preset, 1M
#      steps) must reach -100 greedily over 100 episodes;
#   5. the bridge's speed (8 copies) beside Gymnasium's SyncVectorEnv and AsyncVectorEnv.
# Prints how long each part took. Without python3, venv or pip it says "skipped: ..." and
# exits 0.
#
# Environment:
#   AGENTLAB_GYMNASIUM_VENV  the virtual environment (default ${TMPDIR:-/tmp}/agentlab-gymnasium-venv;
#                            reused when it already holds these versions)
set -euo pipefail

# 1.2.2: the first self-test compares the bridge with SyncVectorEnv's same-step autoreset
# (Gymnasium 1.1 and later).
gymnasium_version=1.2.2
numpy_version=2.1.3

check_name=gymnasium-bridge-check
. "$(dirname "$0")/../lib/check-log.sh"

[ $# -eq 2 ] || { echo "usage: $0 AGENTLAB_BINARY NATIVE_CARTPOLE_PPO_RUN" >&2; exit 2; }
[ -x "$1" ] && [ -f "$1" ] || { echo "$0: $1 is not an executable file" >&2; exit 2; }
[ -d "$2" ] || { echo "$0: $2 is not a run folder" >&2; exit 2; }
agentlab="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
native_run="$2"
cd "$(dirname "$0")/../.."

command -v python3 >/dev/null || skip "python3 is not installed"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || skip "python3 is older than 3.10"
venv="${AGENTLAB_GYMNASIUM_VENV:-${TMPDIR:-/tmp}/agentlab-gymnasium-venv}"
start=$(now)
if ! "$venv/bin/python" -c "import gymnasium, numpy; assert gymnasium.__version__ == '$gymnasium_version' and numpy.__version__ == '$numpy_version'" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" || skip "python3 cannot make a virtual environment (apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet "gymnasium==$gymnasium_version" "numpy==$numpy_version" \
    || fail "pip could not install gymnasium==$gymnasium_version numpy==$numpy_version"
fi
export AGENTLAB_PYTHON="$venv/bin/python"
say "gymnasium $gymnasium_version, numpy $numpy_version in $venv ($(seconds_since "$start") s)"

start=$(now)
PYTHONPATH="$PWD/python:$PWD/Tests/Fixtures/gymnasium" "$AGENTLAB_PYTHON" Tests/Fixtures/gymnasium/drive_worker.py \
  || fail "the worker's protocol self-test"
say "worker self-test passed ($(seconds_since "$start") s)"

start=$(now)
swift test --filter Gymnasium 2>&1 | tee "${TMPDIR:-/tmp}/agentlab-gymnasium-tests.log" | grep -E "error|Executed .* tests" || true
grep -q "with 0 failures" "${TMPDIR:-/tmp}/agentlab-gymnasium-tests.log" || fail "the Swift bridge tests"
if grep -E "Test Case .* skipped" "${TMPDIR:-/tmp}/agentlab-gymnasium-tests.log"; then
  fail "bridge tests skipped although gymnasium is installed"
fi
say "Swift bridge tests passed ($(seconds_since "$start") s)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(now)
"$agentlab" eval "$native_run" --env gymnasium:CartPole-v1 --min-return 500 --junit "$work/native-on-gymnasium.xml" \
  || fail "the native CartPole-v1 PPO run on Gymnasium's CartPole-v1"
say "native PPO on gymnasium:CartPole-v1 scores 500 ($(seconds_since "$start") s)"

start=$(now)
"$agentlab" train --env gymnasium:Acrobot-v1 --algo ppo --seed 0 --out "$work/ppo-acrobot" | grep -v "steps/s  " \
  || fail "PPO through the bridge on Acrobot-v1"
"$agentlab" eval "$work/ppo-acrobot" --min-return -100 --junit "$work/ppo-acrobot.xml" \
  || fail "PPO through the bridge on Acrobot-v1 falls short of -100"
say "PPO through the bridge on gymnasium:Acrobot-v1 reaches -100 ($(seconds_since "$start") s)"

start=$(now)
"$agentlab" bench gymnasium
"$AGENTLAB_PYTHON" benchmarks/peers/gymnasium_vector.py --steps 5000
say "speed beside Gymnasium's vector environments ($(seconds_since "$start") s)"
say "passed"
