#!/usr/bin/env bash
# The Ray backend's interoperability check, as CI runs it:
#   scripts/ray/ray-sweep-check.sh AGENTLAB_BINARY
#
# Installs a pinned Ray into a virtual environment, starts a two-node cluster on this
# machine (the second node in its own network namespace with a veth pair when this runs as
# root and namespaces work, so trials cross a real network link), runs a 6-trial sweep on
# it with `--backend ray`, kills the second node while one of its trials runs, and checks
# that every trial still finished and that trials.csv and summary.csv equal a
# `--backend local` run of the same spec (apart from times and folders). Prints how long
# each part took. Without python3, venv or pip it says "skipped: ..." and exits 0.
#
# Environment:
#   AGENTLAB_RAY_VENV     the virtual environment (default ${TMPDIR:-/tmp}/agentlab-ray-venv;
#                         reused when it already holds this Ray version)
#   AGENTLAB_RAY_TIMEOUT  seconds the Ray sweep may take (default 1800)
#   AGENTLAB_RAY_NETNS=0  keep both nodes on this machine's network even as root
#
# Use an optimised binary (`swift build -c release`): a debug build trains many times slower.
set -euo pipefail

# Ray 2.60.0 declares CPython 3.10-3.14 (checked here on x86-64 Linux with 3.11); ray[default]
# adds the dashboard, which serves the Job Submission API. The venv is about 380 MiB.
ray_version=2.60.0
gcs_port=6390
dashboard_port=8265
dashboard=http://127.0.0.1:$dashboard_port
trial_count=6

check_name=ray-sweep-check
. "$(dirname "$0")/../lib/check-log.sh"

[ $# -eq 1 ] || { echo "usage: $0 AGENTLAB_BINARY" >&2; exit 2; }
[ -x "$1" ] && [ -f "$1" ] || { echo "$0: $1 is not an executable file" >&2; exit 2; }
agentlab="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"

# --- Prerequisites: python3 (3.10 or later) with venv and pip. -------------------------
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (Ray needs Python 3.10 or later)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || skip "python3 is $(python3 -c 'import platform; print(platform.python_version())'); Ray $ray_version needs 3.10 or later"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 \
  || skip "python3 has no venv/ensurepip module (on Debian: apt-get install python3-venv)"
command -v ps >/dev/null 2>&1 || skip "ps is not installed (procps); it finds the second node's processes"

# Another Ray on this machine would be stopped by this check's cleanup: refuse instead.
port_in_use() { python3 -c 'import socket, sys; s = socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"; }
for port in "$gcs_port" "$dashboard_port"; do
  port_in_use "$port" && fail "port $port on 127.0.0.1 is in use (another Ray cluster?); stop it first (\`ray stop\`)"
done

tmp=${TMPDIR:-/tmp}
venv=${AGENTLAB_RAY_VENV:-$tmp/agentlab-ray-venv}
sweep_timeout=${AGENTLAB_RAY_TIMEOUT:-1800}
work=$(mktemp -d "$tmp/agentlab-ray-check.XXXXXX")
cd "$work"  # Ray jobs start in the directory `ray start` ran in.

cluster_started=0 netns="" veth_host="" sweep_pid="" node2_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$sweep_pid" ] && kill -0 "$sweep_pid" 2>/dev/null; then
    kill -TERM "$sweep_pid" 2>/dev/null || true
    sleep 3
    kill -KILL "$sweep_pid" 2>/dev/null || true
  fi
  if [ "$cluster_started" = 1 ]; then
    say "stopping the Ray cluster"
    "$venv/bin/ray" stop --force >"$work/ray-stop.log" 2>&1 || say "ray stop --force failed: see $work/ray-stop.log"
  fi
  if [ -n "$netns" ]; then
    ip netns pids "$netns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns delete "$netns" 2>/dev/null || true
    ip link delete "$veth_host" 2>/dev/null || true
  fi
  if [ "$status" = 0 ]; then rm -rf "$work"; else say "logs and sweep folders kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Ray in a virtual environment. ----------------------------------------------------
start=$(now)
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import ray, ray.dashboard, aiohttp; assert ray.__version__ == '$ray_version'" >/dev/null 2>&1; then
  install_seconds=0 install_note=" (reused)"
else
  say "installing ray[default]==$ray_version into $venv"
  if [ -e "$venv" ]; then
    [ -f "$venv/pyvenv.cfg" ] || fail "$venv exists and is not a virtual environment; set AGENTLAB_RAY_VENV to a new path"
    rm -rf "$venv"
  fi
  python3 -m venv "$venv" || skip "python3 -m venv failed (is python3-venv installed?)"
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 || skip "the new virtual environment has no pip"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ray[default]==$ray_version" >"$work/pip.log" 2>&1 \
    || { tail -20 "$work/pip.log" >&2; fail "cannot install ray[default]==$ray_version (is PyPI reachable? a mirror can be set with PIP_INDEX_URL)"; }
  install_seconds=$(seconds_since "$start") install_note=""
fi
ray="$venv/bin/ray"
python="$venv/bin/python"
say "Ray $("$python" -c 'import ray; print(ray.__version__)') ready in $install_seconds s$install_note ($(du -sh "$venv" | cut -f1) in $venv)"

# Queries the dashboard's REST API: `api nodes-alive`, `api worker-node`, `api status JOB`,
# `api running-on NODE_ID` (a running job's ID), `api jobs-on NODE_ID` (ID, status, error type).
api() {
  "$python" - "$dashboard" "$@" <<'PY'
import json, sys, urllib.request
base, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
def get(path):
    with urllib.request.urlopen(base + path, timeout=10) as reply:
        return json.load(reply)
def nodes():
    return get("/api/v0/nodes?limit=1000&detail=true")["data"]["result"]["result"]
try:
    if command == "nodes-alive":
        print(sum(1 for n in nodes() if n["state"] == "ALIVE"))
    elif command == "worker-node":
        print(next(n["node_id"] for n in nodes() if n["state"] == "ALIVE" and not n["is_head_node"]))
    elif command == "status":
        print(get(f"/api/jobs/{args[0]}")["status"])
    elif command == "running-on":
        print(next(j["submission_id"] for j in get("/api/jobs/") if j["status"] == "RUNNING" and j.get("driver_node_id") == args[0]))
    elif command == "jobs-on":
        for j in get("/api/jobs/"):
            if j.get("driver_node_id") == args[0]:
                print(j["submission_id"], j["status"], j.get("error_type"))
except (StopIteration, OSError, ValueError, KeyError):
    sys.exit(1)
PY
}

# --- A two-node cluster. ---------------------------------------------------------------
# The second node in a network namespace, joined to this one by a veth pair, when possible.
head_ip=127.0.0.1 node2_ip=127.0.0.1 node2_prefix=()
if [ "${AGENTLAB_RAY_NETNS:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1 \
  && ip netns add "agentlab-ray-$$" 2>/dev/null; then
  netns=agentlab-ray-$$ veth_host=agr$$h
  if ip link add "$veth_host" type veth peer name "agr$$w" \
    && ip link set "agr$$w" netns "$netns" \
    && ip address add 10.213.77.1/30 dev "$veth_host" && ip link set "$veth_host" up \
    && ip -n "$netns" address add 10.213.77.2/30 dev "agr$$w" && ip -n "$netns" link set "agr$$w" up \
    && ip -n "$netns" link set lo up; then
    head_ip=10.213.77.1 node2_ip=10.213.77.2 node2_prefix=(ip netns exec "$netns")
    say "the second node runs in network namespace $netns ($node2_ip), reaching the head ($head_ip) over a veth pair"
  else
    ip netns delete "$netns" 2>/dev/null || true
    ip link delete "$veth_host" 2>/dev/null || true
    netns="" veth_host=""
    say "could not set up a veth pair; both nodes share this machine's network (127.0.0.1)"
  fi
else
  say "not root, no working \`ip netns\`, or AGENTLAB_RAY_NETNS=0: both nodes share this machine's network (127.0.0.1)," \
    "so trials do not cross a real link"
fi

start=$(now)
cluster_started=1
"$ray" start --head --node-ip-address="$head_ip" --port="$gcs_port" --dashboard-host=127.0.0.1 --dashboard-port="$dashboard_port" \
  --num-cpus=1 --include-dashboard=true --disable-usage-stats >"$work/head.log" 2>&1 \
  || { tail -20 "$work/head.log" >&2; fail "the Ray head did not start"; }
# --block keeps the node's processes children of this one, so they can all be killed.
"${node2_prefix[@]}" "$ray" start --address="$head_ip:$gcs_port" --node-ip-address="$node2_ip" --num-cpus=1 \
  --resources='{"agentlab_second_node": 1}' --node-manager-port=6391 --object-manager-port=6392 \
  --dashboard-agent-listen-port=52366 --dashboard-agent-grpc-port=6393 --runtime-env-agent-port=6394 --metrics-export-port=6395 \
  --min-worker-port=20000 --max-worker-port=20999 --disable-usage-stats --block >"$work/node2.log" 2>&1 &
node2_pid=$!
disown "$node2_pid"  # no "Killed" notice from bash when it is killed below
deadline=$((SECONDS + 120))
until [ "$(api nodes-alive 2>/dev/null || echo 0)" = 2 ]; do
  kill -0 "$node2_pid" 2>/dev/null || { tail -20 "$work/node2.log" >&2; fail "the second Ray node exited while starting"; }
  [ "$SECONDS" -lt "$deadline" ] || fail "the cluster did not reach two live nodes within 120 s"
  sleep 1
done
node2_id=$(api worker-node) || fail "cannot find the second node in the dashboard's node list"
cluster_seconds=$(seconds_since "$start")
say "cluster up in $cluster_seconds s: head at $head_ip, second node $node2_id at $node2_ip; dashboard $dashboard"

# --- The sweep spec. -------------------------------------------------------------------
cat >"$work/spec.yaml" <<'YAML'
# 3 learning rates x 2 seeds = 6 PPO trials on CartPole-v1.
base:
  environment: CartPole-v1
  algorithm: ppo
  steps: 20000
search:
  ppo.learning_rate: [3.0e-4, 1.0e-3, 2.5e-3]
method: grid
seeds: [0, 1]
objective: final_return
seed: 0
YAML

# --- The Ray sweep, losing the second node midway. -------------------------------------
start=$(now)
"$agentlab" sweep "$work/spec.yaml" --backend ray --address "$dashboard" --out "$work/ray" --threads 1 >"$work/ray-sweep.log" 2>&1 &
sweep_pid=$!
sweep_deadline=$((SECONDS + sweep_timeout))
say "Ray sweep started (log: $work/ray-sweep.log); waiting for a trial on the second node"

# The second node's processes: the `ray start --block` process and its descendants (the
# raylet, its agents and workers, trial commands), and everything in its namespace.
node2_processes() {
  {
    ps -eo pid=,ppid= | awk -v root="$node2_pid" '
      { parent[$1] = $2; pids[NR] = $1 }
      END { for (i in pids) { p = q = pids[i]; while (q != root && (q in parent) && q > 1) q = parent[q]; if (q == root) print p } }'
    if [ -n "$netns" ]; then ip netns pids "$netns"; fi
  } | sort -u | tr '\n' ' '
}
# Trials are short (seconds), so one may end between being seen running and the kill:
# freeze the node first, and kill it only if its trial is still running.
deadline=$((SECONDS + 600))
while true; do
  if lost_job=$(api running-on "$node2_id" 2>/dev/null); then
    frozen=$(node2_processes)
    # shellcheck disable=SC2086
    kill -STOP $frozen 2>/dev/null || true
    if [ "$(api status "$lost_job" 2>/dev/null)" = RUNNING ]; then
      frozen="$frozen $(node2_processes)"
      say "trial job $lost_job is running on the second node: killing that node (SIGKILL to $(wc -w <<<"$frozen") processes)"
      # shellcheck disable=SC2086
      kill -KILL $frozen 2>/dev/null || true
      node2_pid=""
      break
    fi
    # shellcheck disable=SC2086
    kill -CONT $frozen 2>/dev/null || true
    say "trial job $lost_job ended before the node was frozen; waiting for the next one"
  fi
  if ! kill -0 "$sweep_pid" 2>/dev/null; then
    tail -30 "$work/ray-sweep.log" >&2
    fail "the Ray sweep ended before a trial could be interrupted on the second node"
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "no trial ran on the second node within 600 s"
  sleep 0.2
done

while kill -0 "$sweep_pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$sweep_deadline" ]; then
    tail -30 "$work/ray-sweep.log" >&2
    fail "the Ray sweep took longer than $sweep_timeout s"
  fi
  sleep 1
done
if wait "$sweep_pid"; then sweep_status=0; else sweep_status=$?; fi
sweep_pid=""
ray_seconds=$(seconds_since "$start")
if [ "$sweep_status" != 0 ]; then
  tail -30 "$work/ray-sweep.log" >&2
  fail "the Ray sweep exited with status $sweep_status"
fi
say "Ray sweep finished in $ray_seconds s; the second node's jobs ended as:"
api jobs-on "$node2_id" | sed 's/^/    /' || true
api jobs-on "$node2_id" | grep -q "^$lost_job FAILED JOB_SUPERVISOR_ACTOR_DIED\$" \
  || fail "job $lost_job did not end as FAILED (JOB_SUPERVISOR_ACTOR_DIED): the node loss did not interrupt a trial"

# Every trial done, despite the lost node.
"$python" - "$work/ray/trials.csv" "$trial_count" <<'PY' || fail "not every trial of the Ray sweep is done"
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
bad = [f"{r['trial']}: {r['status']} {r['reason']}".strip() for r in rows if r["status"] != "done"]
if len(rows) != int(sys.argv[2]) or bad:
    print(f"{sys.argv[1]}: {len(rows)} trials (expected {sys.argv[2]}); not done: {bad}", file=sys.stderr)
    sys.exit(1)
print(f"[ray-sweep-check] all {len(rows)} trials in trials.csv are done")
PY

# --- The same sweep on this machine. ---------------------------------------------------
start=$(now)
"$agentlab" sweep "$work/spec.yaml" --backend local --out "$work/local" --parallel 2 --threads 1 >"$work/local-sweep.log" 2>&1 \
  || { tail -30 "$work/local-sweep.log" >&2; fail "the local sweep failed"; }
local_seconds=$(seconds_since "$start")
say "local sweep finished in $local_seconds s"

"$python" - "$work/ray" "$work/local" <<'PY' || fail "the Ray and local sweeps disagree"
import csv, sys
def table(path, drop=()):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if name not in drop]
    return [[row[i] for i in keep] for row in rows]
ray_dir, local_dir = sys.argv[1], sys.argv[2]
same = True
for name, drop, ordered in [("trials.csv", ("wall_seconds", "run_folder"), False), ("summary.csv", (), True)]:
    a, b = table(f"{ray_dir}/{name}", drop), table(f"{local_dir}/{name}", drop)
    if not ordered:
        a, b = a[:1] + sorted(a[1:]), b[:1] + sorted(b[1:])
    if a != b:
        same = False
        print(f"{name} differs (ray, then local):", file=sys.stderr)
        for x, y in zip(a, b):
            if x != y:
                print(f"  ray:   {x}\n  local: {y}", file=sys.stderr)
        if len(a) != len(b):
            print(f"  {len(a)} rows against {len(b)}", file=sys.stderr)
if not same:
    sys.exit(1)
print("[ray-sweep-check] trials.csv (without wall_seconds, run_folder) and summary.csv are the same on Ray and locally")
PY

# --- Timings. --------------------------------------------------------------------------
say "timings: install $install_seconds s$install_note, cluster start $cluster_seconds s, Ray sweep $ray_seconds s, local sweep $local_seconds s"
awk -v ray="$ray_seconds" -v loc="$local_seconds" -v n="$trial_count" 'BEGIN {
  printf "[ray-sweep-check] Ray overhead: about %.1f s per trial ((Ray - local) / %d; both ran 2 trials at a time until the\n", (ray - loc) / n, n
  printf "[ray-sweep-check]   node loss, after which Ray had 1 CPU; the Ray time includes detecting the loss and the rerun)\n"
}'
say "passed"
