"""Self-test of AgentLab's Gymnasium worker: starts `python -m agentlab_gymnasium` with its
request and reply pipes on descriptors 3 and 4, speaks the protocol of
docs/gymnasium-bridge.md and checks the replies against Gymnasium run directly.

    python3 Tests/Fixtures/gymnasium/drive_worker.py [--without-gymnasium PYTHON]
        [--without-numpy PYTHON] [--speed]

Needs gymnasium and numpy in the running interpreter (the worker runs under the same one,
with python/ and this folder on PYTHONPATH). --without-gymnasium / --without-numpy name
interpreters lacking them, to check MAKE's "not installed" replies; --speed also times
20,000 STEPs of 8 CartPole-v1 copies through one worker.
"""
import argparse
import fcntl
import math
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

import gymnasium as gym
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
MAKE, RESET, STEP, RENDER, CLOSE = 1, 2, 3, 4, 5


class Worker:
    def __init__(self, python=sys.executable):
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        # Park the child's ends above 10 so that dup2 onto 3 and 4 cannot clobber them.
        high_r = fcntl.fcntl(request_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(reply_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(request_r), os.close(reply_w)

        def wire():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO, "python"), HERE]))
        self.stdout = tempfile.TemporaryFile()
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [python, "-m", "agentlab_gymnasium", "--parent-pid", str(os.getpid())],
            env=env, stdout=self.stdout, stderr=self.stderr, pass_fds=(3, 4), preexec_fn=wire)
        os.close(high_r), os.close(high_w)

    def read(self, count):
        data = b""
        while len(data) < count:
            chunk = os.read(self.reply_r, count - len(data))
            assert chunk, "the worker closed its reply pipe"
            data += chunk
        return data

    def request(self, opcode, payload=b""):
        os.write(self.request_w, struct.pack("<IB", len(payload) + 1, opcode) + payload)
        (length,) = struct.unpack("<I", self.read(4))
        body = self.read(length)
        return body[0], body[1:]

    def ok(self, opcode, payload=b""):
        status, body = self.request(opcode, payload)
        assert status == 0, f"error reply: {body.decode()}"
        return body

    def error(self, opcode, payload=b""):
        status, body = self.request(opcode, payload)
        assert status == 1, "expected an error reply"
        return body.decode()

    def make(self, env_id, copies=1, render=False):
        name = env_id.encode()
        return struct.pack("<IIBI", copies, 0, int(render), len(name)) + name

    def close(self):
        os.write(self.request_w, struct.pack("<IB", 1, CLOSE))
        assert self.process.wait(10) == 0
        os.close(self.request_w), os.close(self.reply_r)
        self.stderr.seek(0), self.stdout.seek(0)
        return self.stdout.read().decode(), self.stderr.read().decode()


class Reader:
    """Pulls little-endian fields off a reply payload in order."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count):
        out = np.frombuffer(self.data, dtype, count, self.at)
        self.at += out.nbytes
        return out

    def box(self):
        ndim = self.take("I")
        shape = [self.take("I") for _ in range(ndim)]
        size = math.prod(shape)
        return shape, self.array("<f4", size), self.array("<f4", size)


def parse_make(body):
    r = Reader(body)
    info = {"protocol": r.take("I")}
    info["obs_shape"], info["obs_low"], info["obs_high"] = r.box()
    info["action_kind"] = r.take("B")
    if info["action_kind"] == 0:
        info["n"], info["start"] = r.take("q"), r.take("q")
    else:
        info["action_shape"], info["action_low"], info["action_high"] = r.box()
    info["max_steps"], info["threshold"], info["fps"] = r.take("q"), r.take("d"), r.take("I")
    length = r.take("I")
    info["description"] = r.data[r.at:r.at + length].decode()
    assert r.at + length == len(r.data), "trailing bytes in the MAKE reply"
    return info


def parse_step(body, copies, size):
    r = Reader(body)
    obs = r.array("<f4", copies * size).reshape(copies, size)
    rewards, term, trunc = r.array("<f8", copies), r.array("u1", copies), r.array("u1", copies)
    ended = int(np.count_nonzero(term | trunc))
    finals = r.array("<f4", ended * size).reshape(ended, size)
    assert r.at == len(body), "trailing bytes in the STEP reply"
    return obs, rewards, term.astype(bool), trunc.astype(bool), finals


def seeds(*values):
    return b"".join(struct.pack("<BQ", v is not None, v or 0) for v in values)


def discrete(*actions):
    return struct.pack(f"<{len(actions)}q", *actions)


def check_cartpole():
    w = Worker()
    info = parse_make(w.ok(MAKE, w.make("CartPole-v1", copies=3)))
    assert info["protocol"] == 1 and info["obs_shape"] == [4], info
    assert (info["action_kind"], info["n"], info["start"]) == (0, 2, 0), info
    assert (info["max_steps"], info["threshold"], info["fps"]) == (500, 475.0, 50), info
    assert info["description"] == "CartPole-v1 (CartPoleEnv)", info["description"]
    direct = gym.make("CartPole-v1").observation_space
    assert np.array_equal(info["obs_low"], direct.low) and np.array_equal(info["obs_high"], direct.high)

    copy_seeds = [42, 43, 7]
    obs = np.frombuffer(w.ok(RESET, seeds(*copy_seeds)), "<f4").reshape(3, 4)
    assert obs[0].tobytes() == gym.make("CartPole-v1").reset(seed=42)[0].tobytes()
    envs = [gym.make("CartPole-v1") for _ in copy_seeds]
    for c, (env, seed) in enumerate(zip(envs, copy_seeds)):
        assert obs[c].tobytes() == env.reset(seed=seed)[0].tobytes()

    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(700):
        actions = rng.integers(2, size=3)
        o, rewards, term, trunc, finals = parse_step(w.ok(STEP, discrete(*actions)), 3, 4)
        want_finals = []
        for c, env in enumerate(envs):
            ob, r, te, tr, _ = env.step(int(actions[c]))
            assert (rewards[c], term[c], trunc[c]) == (r, te, tr)
            if te or tr:  # the worker resets in the same step, continuing the copy's generator
                want_finals.append(ob)
                ob, _ = env.reset()
                episodes += 1
            assert o[c].tobytes() == ob.tobytes(), (c, o[c], ob)
        assert len(finals) == len(want_finals)
        for got, want in zip(finals, want_finals):
            assert got.tobytes() == want.tobytes()
    assert episodes >= 3, episodes
    check_against_vector_env(w)
    w.close()
    print(f"ok: CartPole-v1 MAKE, seeded RESET and 700 STEPs bit for bit ({episodes} episodes ended)")


def check_against_vector_env(w):
    """8 seeded copies against Gymnasium's SyncVectorEnv with same-step autoreset."""
    info = parse_make(w.ok(MAKE, w.make("CartPole-v1", copies=8)))
    assert info["obs_shape"] == [4]
    if not hasattr(gym.vector, "AutoresetMode"):  # Gymnasium 1.0 autoresets on the next step only
        print(f"note: SyncVectorEnv comparison skipped: gymnasium {gym.__version__} has no same-step autoreset")
        return
    vec = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 8,
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    want, _ = vec.reset(seed=list(range(100, 108)))
    got = np.frombuffer(w.ok(RESET, seeds(*range(100, 108))), "<f4").reshape(8, 4)
    assert got.tobytes() == want.tobytes()
    rng = np.random.default_rng(1)
    for _ in range(600):
        actions = rng.integers(2, size=8)
        o, rewards, term, trunc, finals = parse_step(w.ok(STEP, discrete(*actions)), 8, 4)
        wo, wr, wte, wtr, winfo = vec.step(actions)
        assert o.tobytes() == wo.tobytes() and np.array_equal(rewards, wr)
        assert np.array_equal(term, wte) and np.array_equal(trunc, wtr)
        if (wte | wtr).any():
            want_finals = np.stack([winfo["final_obs"][c] for c in np.flatnonzero(wte | wtr)])
            assert finals.tobytes() == want_finals.astype(np.float32).tobytes()
    print("ok: 8 copies of CartPole-v1 match SyncVectorEnv (same-step autoreset) for 600 steps")


def check_counting():
    w = Worker()
    info = parse_make(w.ok(MAKE, w.make("agentlab_test_envs:CountingEnv", copies=2, render=True)))
    assert info["obs_shape"] == [2, 2] and (info["n"], info["start"]) == (3, 1), info
    assert info["max_steps"] == -1 and math.isnan(info["threshold"]) and info["fps"] == 30, info
    assert info["description"] == "CountingEnv", info["description"]
    assert np.isinf(info["obs_low"]).all() and (info["obs_low"] < 0).all()
    assert "stepped without a reset" in w.error(STEP, discrete(0, 0))
    obs = np.frombuffer(w.ok(RESET, seeds(5, None)), "<f4").reshape(2, 4)
    assert obs.tolist() == [[0, 0, 1, 5], [0, 0, 1, -1]], obs
    height, width = struct.unpack_from("<II", w.ok(RENDER, struct.pack("<I", 1)))
    for step, actions in enumerate([(0, 2), (1, 1), (2, 0), (0, 1)], start=1):
        o, rewards, term, trunc, finals = parse_step(w.ok(STEP, discrete(*actions)), 2, 4)
        assert rewards.tolist() == [a + 1 for a in actions], rewards  # 0-based + start 1
        if step < 3:
            assert o.tolist() == [[step, actions[0] + 1, 1, 5], [step, actions[1] + 1, 1, -1]], o
            assert not term.any() and not trunc.any() and len(finals) == 0
        elif step == 3:  # both episodes end: reset in the same step, with no seed
            assert term.all() and not trunc.any()
            assert finals.tolist() == [[3, 3, 1, 5], [3, 1, 1, -1]], finals
            assert o.tolist() == [[0, 0, 2, -1], [0, 0, 2, -1]], o
        else:
            assert o.tolist() == [[1, 1, 2, -1], [1, 2, 2, -1]] and len(finals) == 0, o
    frame = w.ok(RENDER, struct.pack("<I", 0))
    height, width = struct.unpack_from("<II", frame)
    pixels = np.frombuffer(frame, np.uint8, offset=8).reshape(height, width, 3)
    assert (height, width) == (4, 6) and (pixels[:, :, 0] == 1).all(), pixels
    assert pixels[3, 5].tolist() == [1, 3, 5]
    assert w.error(RENDER, struct.pack("<I", 2)) == "RENDER asks for copy 2 of 2"

    info = parse_make(w.ok(MAKE, w.make("agentlab_test_envs:AgentLabCounting-v0", copies=2)))
    assert (info["max_steps"], info["threshold"]) == (2, 5.0), info
    assert info["description"] == "AgentLabCounting-v0 (CountingEnv)", info["description"]
    w.ok(RESET, seeds(None, None))
    w.ok(STEP, discrete(0, 0))
    o, rewards, term, trunc, finals = parse_step(w.ok(STEP, discrete(1, 2)), 2, 4)
    assert trunc.all() and not term.any() and finals.tolist() == [[2, 2, 1, -1], [2, 3, 1, -1]]
    message = w.error(RENDER, struct.pack("<I", 0))
    assert message == 'render() returned None: make the environment with render_mode="rgb_array"', message
    w.close()
    print("ok: CountingEnv autoreset, final observations, action start, rendering; module:id form")


def check_errors():
    w = Worker()
    w.ok(MAKE, w.make("agentlab_test_envs:RaisingEnv", copies=2))
    w.ok(RESET, seeds(1, 2))
    w.ok(STEP, discrete(0, 1))
    w.ok(STEP, discrete(0, 1))
    message = w.error(STEP, discrete(0, 1))
    assert message == "ValueError: the reactor overheated (in step 3 of copy 0's episode)", message
    assert w.error(STEP, discrete(0, 1)) == "copy 0 was stepped without a reset"
    w.ok(RESET, seeds(None, None))  # still answering
    message = w.error(MAKE, w.make("agentlab_test_envs:DictObservationEnv"))
    assert message == ("the observation space Dict('position': Box(-1.0, 1.0, (2,), float32)) is not"
                       " supported: AgentLab takes Box observations (wrap the environment in"
                       " gymnasium.wrappers.FlattenObservation)"), message
    assert w.error(RESET, seeds(None)) == "no environment: the first request must be MAKE"
    message = w.error(MAKE, w.make("agentlab_test_envs:MultiDiscreteActionEnv"))
    assert message == ("the action space MultiDiscrete([2 3]) is not supported: AgentLab takes"
                       " Discrete or Box actions"), message
    message = w.error(MAKE, w.make("Foo-v0"))
    assert message == "NameNotFound: Environment `Foo` doesn't exist.", message
    message = w.error(MAKE, w.make("no_such_module:Foo"))
    assert message.startswith("ModuleNotFoundError: No module named 'no_such_module'"), message
    assert w.error(9) == "unknown request opcode 9"
    w.ok(MAKE, w.make("agentlab_test_envs:PrintingEnv", copies=2))
    w.ok(RESET, seeds(3, 4))
    for _ in range(7):
        parse_step(w.ok(STEP, discrete(0, 2)), 2, 4)
    stdout, stderr = w.close()
    assert stdout == "" and "PrintingEnv: step with action 3" in stderr, (stdout, stderr[-300:])
    print("ok: error replies (RaisingEnv, refused spaces, unknown id); PrintingEnv's output on stderr")


def check_hanging():
    w = Worker()
    w.ok(MAKE, w.make("agentlab_test_envs:HangingEnv"))
    w.ok(RESET, seeds(None))
    w.ok(STEP, discrete(1))
    os.write(w.request_w, struct.pack("<IB", 9, STEP) + discrete(1))
    ready, _, _ = select.select([w.reply_r], [], [], 1.0)
    assert not ready, "HangingEnv answered its 2nd step"
    w.process.kill()
    w.process.wait()
    os.close(w.request_w), os.close(w.reply_r)
    print("ok: HangingEnv does not answer its 2nd step")


def check_box_actions():
    w = Worker()
    info = parse_make(w.ok(MAKE, w.make("Pendulum-v1", copies=2)))
    assert info["action_kind"] == 1 and info["action_shape"] == [1], info
    assert info["action_low"].tolist() == [-2.0] and info["max_steps"] == 200
    got = np.frombuffer(w.ok(RESET, seeds(3, 4)), "<f4").reshape(2, 3)
    envs = [gym.make("Pendulum-v1") for _ in range(2)]
    want = [env.reset(seed=s)[0] for env, s in zip(envs, (3, 4))]
    assert got.tobytes() == np.stack(want).tobytes()
    rng = np.random.default_rng(2)
    for _ in range(250):
        actions = rng.uniform(-2, 2, size=(2, 1)).astype(np.float32)
        o, rewards, term, trunc, finals = parse_step(w.ok(STEP, actions.tobytes()), 2, 3)
        for c, env in enumerate(envs):
            ob, r, te, tr, _ = env.step(actions[c])
            assert rewards[c] == r and (term[c], trunc[c]) == (te, tr)
            if tr:
                assert finals[c].tobytes() == ob.tobytes()
                ob, _ = env.reset()
            assert o[c].tobytes() == ob.tobytes()
        if trunc.any():
            break
    w.close()
    print("ok: Pendulum-v1 Box actions bit for bit, through its time limit")


def check_speed():
    w = Worker()
    w.ok(MAKE, w.make("CartPole-v1", copies=8))
    w.ok(RESET, seeds(*range(8)))
    requests = [discrete(*a) for a in np.random.default_rng(3).integers(2, size=(20_000, 8))]
    start = time.perf_counter()
    for r in requests:
        w.ok(STEP, r)
    seconds = time.perf_counter() - start
    w.close()
    print(f"info: CartPole-v1, 8 copies, one worker: {len(requests) * 8 / seconds:,.0f} env steps/s"
          f" ({seconds / len(requests) * 1e6:.0f} us a STEP round trip)")


def check_missing(python, package):
    w = Worker(python)
    message = w.error(MAKE, w.make("CartPole-v1"))
    exe = subprocess.run([python, "-c", "import sys; print(sys.executable)"], capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH="")).stdout.strip()
    want = f"{package} is not installed for {exe}: run '{exe} -m pip install {package}'"
    assert message == want, (message, want)
    w.close()
    print(f"ok: {python}: {message}")


def check_lifetime():
    """SIGINT is ignored, end of file on the request pipe ends the worker, and so does the
    death of its parent (PR_SET_PDEATHSIG) while another process holds the pipe open."""
    w = Worker()
    w.ok(MAKE, w.make("CartPole-v1"))
    w.process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    w.ok(RESET, seeds(1))
    os.close(w.request_w)
    assert w.process.wait(10) == 0
    os.close(w.reply_r)

    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=env)
    worker_pid, holder_pid = map(int, parent.stdout.readline().split())
    try:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            if not alive(worker_pid):
                break
            time.sleep(0.1)
        assert not alive(worker_pid), "the worker outlived its parent"
    finally:
        os.kill(holder_pid, signal.SIGKILL)
    print("ok: SIGINT ignored; end of file ends the worker; so does its parent's death")


# A parent that starts a worker, lets a `sleep` hold the request pipe open, waits for the
# worker to answer, says both pids and waits to be killed.
PARENT = """
import fcntl, os, subprocess, sys, time
r, w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())
r2, w2 = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())
os.dup2(r, 3); os.dup2(w2, 4)
worker = subprocess.Popen([sys.executable, "-m", "agentlab_gymnasium", "--parent-pid", str(os.getpid())],
                          pass_fds=(3, 4))
holder = subprocess.Popen(["sleep", "60"], pass_fds=(w,))
os.write(w, bytes([1, 0, 0, 0, 9]))  # an unknown opcode: its error reply says the worker is up
os.read(r2, 100)
print(worker.pid, holder.pid, flush=True)
time.sleep(60)
"""


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def check_orphan():
    """A worker whose --parent-pid is already dead exits at once."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"))
    done = subprocess.run([sys.executable, "-m", "agentlab_gymnasium", "--parent-pid", str(dead.pid)],
                          env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 0
    print("ok: a worker started for a dead parent exits at once")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--without-gymnasium", metavar="PYTHON")
    p.add_argument("--without-numpy", metavar="PYTHON")
    p.add_argument("--speed", action="store_true", help="also time 20,000 STEPs of 8 CartPoles")
    a = p.parse_args()
    check_cartpole()
    check_counting()
    check_errors()
    check_box_actions()
    check_hanging()
    check_orphan()
    check_lifetime()
    if a.without_gymnasium:
        check_missing(a.without_gymnasium, "gymnasium")
    if a.without_numpy:
        check_missing(a.without_numpy, "numpy")
    if a.speed:
        check_speed()
    print("all worker checks passed")
