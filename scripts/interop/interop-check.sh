#!/usr/bin/env bash
# The ecosystem formats, each read by the real tool, as CI runs it:
#   scripts/interop/interop-check.sh AGENTLAB_BINARY CARTPOLE_PPO_RUN CARTPOLE_DQN_RUN [RECURRENT_PPO_RUN]
#
# Installs pinned TensorBoard, ONNX, ONNX Runtime and Gymnasium into a virtual environment, then:
#   1. TensorBoard's reader finds every metrics.csv value of both runs, with the same steps
#      (scripts/interop/tensorboard_check.py), reads an event file cut inside its last record,
#      and shows a small sweep's trials side by side;
#   2. the PPO run, a DQN run and a conv PPO run on Breakout-MinAtar are exported as ONNX:
#      onnx.checker accepts each, ONNX Runtime matches AgentLab's outputs within 1e-5 on 1,000
#      observations from greedy episodes, and the CartPole policy scores 500 in each of 10
#      episodes of Gymnasium's own CartPole-v1 (scripts/interop/onnx_check.py); a recurrent
#      PPO run, when given, is exported as a one-step model with its state and checked on
#      1,000 observations of whole episodes, the state fed back step by step;
#   3. `agentlab record --out *.mp4` (with --saliency) is decoded by ffprobe: H.264, the frame
#      count, size and frame rate the command reported.
# Without python3 or venv it says "skipped: ..." for 1 and 2 and exits 0 after 3; without
# ffprobe it skips 3.
#
# Environment:
#   AGENTLAB_INTEROP_VENV  the virtual environment (default ${TMPDIR:-/tmp}/agentlab-interop-venv;
#                          reused when it already holds these versions)
set -euo pipefail

tensorboard_version=2.21.0
onnx_version=1.23.2
onnxruntime_version=1.32.0
gymnasium_version=1.2.2
numpy_version=2.2.6

check_name=interop-check
. "$(dirname "$0")/../lib/check-log.sh"

[ $# -eq 3 ] || [ $# -eq 4 ] || {
  echo "usage: $0 AGENTLAB_BINARY CARTPOLE_PPO_RUN CARTPOLE_DQN_RUN [RECURRENT_PPO_RUN]" >&2; exit 2; }
[ -x "$1" ] && [ -f "$1" ] || { echo "$0: $1 is not an executable file" >&2; exit 2; }
for run in "${@:2}"; do [ -d "$run" ] || { echo "$0: $run is not a run folder" >&2; exit 2; }; done
agentlab="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ppo_run="$2"
dqn_run="$3"
recurrent_run="${4:-}"
cd "$(dirname "$0")/../.."
work=$(mktemp -d)

# 3 first: it needs no Python.
video() {
  command -v ffprobe >/dev/null || { say "skipped: MP4 check (ffprobe is not installed: apt-get install ffmpeg)"; return; }
  local start line frames size fps probed
  start=$(now)
  SDL_VIDEODRIVER=offscreen "$agentlab" record "$ppo_run" --out "$work/cartpole.mp4" --episodes 2 --max-steps 150 \
    --saliency > "$work/record.txt" || fail "agentlab record to MP4"
  line=$(tail -1 "$work/record.txt")
  frames=$(sed -E 's/^wrote ([0-9]+) frames.*/\1/' <<< "$line")
  size=$(sed -E 's/.*\(([0-9]+)×([0-9]+)\).*/\1,\2/' <<< "$line")
  fps=$(sed -E 's/.* at ([0-9]+) frames\/s.*/\1/' <<< "$line")
  probed=$(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=codec_name,width,height,r_frame_rate,nb_read_frames -of csv=p=0 "$work/cartpole.mp4")
  [ "$probed" = "h264,$size,$fps/1,$frames" ] \
    || fail "ffprobe reads '$probed' from the MP4, agentlab reported '$line'"
  say "MP4: ffprobe decodes $frames H.264 frames, ${size/,/×}, $fps frames/s, as reported ($(seconds_since "$start") s)"
}
video

command -v python3 >/dev/null || skip "python3 is not installed (TensorBoard and ONNX checks)"
venv="${AGENTLAB_INTEROP_VENV:-${TMPDIR:-/tmp}/agentlab-interop-venv}"
start=$(now)
pins=("tensorboard==$tensorboard_version" "onnx==$onnx_version" "onnxruntime==$onnxruntime_version"
      "gymnasium==$gymnasium_version" "numpy==$numpy_version")
if ! "$venv/bin/python" -c "
import tensorboard, onnx, onnxruntime, gymnasium, numpy
assert (tensorboard.__version__, onnx.__version__, onnxruntime.__version__, gymnasium.__version__, numpy.__version__) == \
    ('$tensorboard_version', '$onnx_version', '$onnxruntime_version', '$gymnasium_version', '$numpy_version')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" || skip "python3 cannot make a virtual environment (apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet "${pins[@]}" || fail "pip could not install ${pins[*]}"
fi
python="$venv/bin/python"
say "${pins[*]} in $venv ($(seconds_since "$start") s)"

start=$(now)
"$python" scripts/interop/tensorboard_check.py "$ppo_run" "$dqn_run" || fail "TensorBoard's reader against metrics.csv"
"$python" scripts/interop/tensorboard_check.py --truncated "$(ls "$ppo_run"/events.out.tfevents.* | head -1)" \
  || fail "TensorBoard's reader on a cut event file"
cat > "$work/sweep.yaml" <<'EOF'
base:
  environment: CartPole-v1
  algorithm: ppo
  steps: 8192
search:
  ppo.learning_rate: [1.0e-3, 3.0e-4]
method: grid
seeds: [0, 1]
objective: final_return
EOF
"$agentlab" sweep "$work/sweep.yaml" --out "$work/sweep" > "$work/sweep.txt" || fail "the sweep for TensorBoard"
"$python" scripts/interop/tensorboard_check.py --sweep "$work/sweep" || fail "TensorBoard on a sweep folder"
say "TensorBoard passed ($(seconds_since "$start") s)"

start=$(now)
"$agentlab" export "$ppo_run" --out "$work/ppo-cartpole.onnx" --samples 1000
"$python" scripts/interop/onnx_check.py "$work/ppo-cartpole.onnx" --samples "$work/ppo-cartpole.samples.json" \
  --gymnasium CartPole-v1 --episodes 10 --min-return 500 || fail "the exported CartPole-v1 PPO policy"
"$agentlab" export "$dqn_run" --out "$work/dqn-cartpole.onnx" --samples 1000
"$python" scripts/interop/onnx_check.py "$work/dqn-cartpole.onnx" --samples "$work/dqn-cartpole.samples.json" \
  || fail "the exported CartPole-v1 DQN Q-network"
"$agentlab" train --env Breakout-MinAtar --steps 20000 --seed 0 --out "$work/ppo-breakout" > /dev/null
"$agentlab" export "$work/ppo-breakout" --out "$work/ppo-breakout.onnx" --samples 1000
"$python" scripts/interop/onnx_check.py "$work/ppo-breakout.onnx" --samples "$work/ppo-breakout.samples.json" \
  || fail "the exported Breakout-MinAtar conv policy"
if [ -n "$recurrent_run" ]; then
  "$agentlab" export "$recurrent_run" --out "$work/recurrent.onnx" --samples 1000
  "$python" scripts/interop/onnx_check.py "$work/recurrent.onnx" --samples "$work/recurrent.samples.json" \
    || fail "the exported recurrent PPO policy"
fi
say "ONNX passed ($(seconds_since "$start") s)"
rm -rf "$work"
