"""The worker: reads requests from fd 3, steps Gymnasium environments, replies on fd 4.

docs/gymnasium-bridge.md is the specification; the frame layouts below follow it.
Errors never end the worker: each becomes an error reply and the `agentlab` side decides.
"""
import argparse
import importlib
import inspect
import os
import signal
import struct
import sys

try:
    import numpy as np
except ImportError:  # reported in reply to the first request, which the parent can show
    np = None

PROTOCOL = 1
REQUEST_FD, REPLY_FD = 3, 4
MAKE, RESET, STEP, RENDER, CLOSE = 1, 2, 3, 4, 5
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

U32 = struct.Struct("<I")
HEADER = struct.Struct("<IB")  # frame length (status byte included), then status
MAKE_HEAD = struct.Struct("<IIBI")  # copies, number of the first copy, render, id length
SEED = struct.Struct("<BQ")  # has_seed, seed
SIZE_2 = struct.Struct("<II")


class Refusal(Exception):
    """A request answered with an error reply; the worker then waits for the next one."""


def describe(error):
    """One line naming an exception: `ValueError: the reactor overheated`."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def not_installed(package):
    exe = sys.executable
    return f"{package} is not installed for {exe}: run '{exe} -m pip install {package}'"


def read_exactly(count):
    """`count` bytes from the request pipe, or None at end of file."""
    chunks = [b""]
    while count:
        chunk = os.read(REQUEST_FD, count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return chunks[-1] if len(chunks) <= 2 else b"".join(chunks)


def write_all(data):
    view = memoryview(data)
    while view:
        view = view[os.write(REPLY_FD, view):]


def reply(status, payload=b""):
    write_all(HEADER.pack(len(payload) + 1, status) + payload)


def import_gymnasium():
    try:
        import gymnasium
    except ModuleNotFoundError as error:
        if error.name == "gymnasium":
            raise Refusal(not_installed("gymnasium")) from None
        raise Refusal(f"importing gymnasium failed: {describe(error)}") from None
    except Exception as error:
        raise Refusal(f"importing gymnasium failed: {describe(error)}") from None
    return gymnasium


def named_callable(env_id):
    """The class or function that an id of the form `module:attr` names, or None."""
    module_name, colon, attr = env_id.partition(":")
    if not colon or not module_name or not attr.isidentifier():
        return None
    try:
        target = getattr(importlib.import_module(module_name), attr, None)
    except Exception:
        return None  # Gymnasium's own error explains the failed import better
    return target if callable(target) else None


def takes_render_mode(target):
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return True  # no signature to read: try the keyword
    return any(p.kind is p.VAR_KEYWORD or (p.name == "render_mode" and p.kind is not p.VAR_POSITIONAL)
               for p in parameters)


def constructor(gymnasium, env_id, render):
    """A first environment and a function that makes more like it."""
    kwargs = {"render_mode": "rgb_array"} if render else {}
    try:
        return gymnasium.make(env_id, **kwargs), lambda: gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error:  # not registered, or not an id at all
        target = named_callable(env_id)
        if target is None:
            raise
    if not (render and takes_render_mode(target)):
        kwargs = {}
    return target(**kwargs), lambda: target(**kwargs)


def space_bytes(space):
    """`u32 ndim`, the dimensions, then low and high as f32 (a Box's shape and bounds)."""
    shape = tuple(int(d) for d in space.shape)
    with np.errstate(over="ignore"):  # float64 bounds beyond f32 become infinite
        low = np.asarray(space.low, dtype="<f4").reshape(-1).tobytes()
        high = np.asarray(space.high, dtype="<f4").reshape(-1).tobytes()
    return struct.pack(f"<I{len(shape)}I", len(shape), *shape) + low + high


class Worker:
    def __init__(self):
        self.envs = []
        self.first_copy = 0  # the vector's number for copy 0 here, for messages

    def close(self):
        for env in self.envs:
            try:
                env.close()
            except Exception:
                pass
        self.envs = []

    def make(self, request):
        if len(request) < MAKE_HEAD.size:
            raise Refusal("malformed MAKE request")
        copies, self.first_copy, render, length = MAKE_HEAD.unpack_from(request)
        if len(request) != MAKE_HEAD.size + length:
            raise Refusal("malformed MAKE request")
        if copies == 0:
            raise Refusal("MAKE asks for 0 copies")
        env_id = bytes(request[MAKE_HEAD.size:]).decode("utf-8")
        self.close()
        gymnasium = import_gymnasium()
        try:
            first, make_another = constructor(gymnasium, env_id, render)
            self.envs = [first]
            needed = ("reset", "step", "observation_space", "action_space")
            if not all(hasattr(first, name) for name in needed):
                raise Refusal(f"{env_id} made a {type(first).__name__}, not a Gymnasium environment")
            for copy in range(1, copies):
                try:
                    self.envs.append(make_another())
                except Exception as error:
                    raise Refusal(f"{describe(error)} (in making copy {copy})") from None
            payload = self.describe_spaces(gymnasium, first)
        except BaseException:
            self.close()  # no half-made set of environments survives a failed MAKE
            raise
        reply(0, payload)

    def describe_spaces(self, gymnasium, env):
        """Checks every copy's spaces, sets up the reply buffers; returns MAKE's payload."""
        spaces = gymnasium.spaces
        obs_space, act_space = env.observation_space, env.action_space
        if not isinstance(obs_space, spaces.Box):
            raise Refusal(f"the observation space {obs_space!r} is not supported: AgentLab takes Box"
                          " observations (wrap the environment in gymnasium.wrappers.FlattenObservation)")
        if not isinstance(act_space, (spaces.Discrete, spaces.Box)):
            raise Refusal(f"the action space {act_space!r} is not supported:"
                          " AgentLab takes Discrete or Box actions")
        for copy, other in enumerate(self.envs[1:], start=1):
            if other.observation_space != obs_space or other.action_space != act_space:
                raise Refusal(f"copy {copy}'s spaces ({other.observation_space!r}, {other.action_space!r})"
                              f" differ from copy 0's ({obs_space!r}, {act_space!r})")
        copies = len(self.envs)
        self.size = size = int(np.prod(obs_space.shape, dtype=np.int64))
        self.discrete = isinstance(act_space, spaces.Discrete)
        if self.discrete:
            self.start = int(act_space.start)
            self.action_bytes = 8 * copies
            action_part = struct.pack("<Bqq", 0, int(act_space.n), self.start)
        else:
            self.action_shape = (copies,) + tuple(act_space.shape)
            self.action_dtype = act_space.dtype
            self.action_bytes = 4 * int(np.prod(self.action_shape, dtype=np.int64))
            action_part = b"\x01" + space_bytes(act_space)
        # One buffer holds the largest STEP reply (every copy's episode ended); numpy views
        # into it are filled in place, so a step allocates no reply memory.
        obs_bytes = 4 * copies * size
        self.fixed_step_bytes = HEADER.size + obs_bytes + 10 * copies
        self.buffer = bytearray(self.fixed_step_bytes + obs_bytes)
        offset = HEADER.size
        self.obs_out = np.frombuffer(self.buffer, "<f4", copies * size, offset).reshape(copies, size)
        self.rewards = np.frombuffer(self.buffer, "<f8", copies, offset + obs_bytes)
        self.terminated = np.frombuffer(self.buffer, "u1", copies, offset + obs_bytes + 8 * copies)
        self.truncated = np.frombuffer(self.buffer, "u1", copies, offset + obs_bytes + 9 * copies)
        self.finals = np.frombuffer(self.buffer, "<f4", copies * size,
                                    self.fixed_step_bytes).reshape(copies, size)
        self.episode_steps = [None] * copies  # None: not reset yet (or broken by an error)
        spec = getattr(env, "spec", None)
        max_steps = getattr(spec, "max_episode_steps", None)
        threshold = getattr(spec, "reward_threshold", None)
        fps = (getattr(env, "metadata", None) or {}).get("render_fps") or 0
        name = type(getattr(env, "unwrapped", env)).__name__
        text = (f"{spec.id} ({name})" if getattr(spec, "id", None) else name).encode("utf-8")
        return b"".join([U32.pack(PROTOCOL), space_bytes(obs_space), action_part,
                         struct.pack("<qdI", -1 if max_steps is None else int(max_steps),
                                     float("nan") if threshold is None else float(threshold),
                                     min(max(int(round(fps)), 0), 0xFFFFFFFF)),
                         U32.pack(len(text)), text])

    def flat(self, obs, where):
        flat = np.asarray(obs, dtype=np.float32).reshape(-1)
        if flat.size != self.size:
            raise Refusal(f"the observation has {flat.size} numbers where the observation space"
                          f" has {self.size} {where}")
        return flat

    def reset_copy(self, copy, **kwargs):
        where = f"(in reset of copy {self.first_copy + copy})"
        self.episode_steps[copy] = None
        try:
            obs, _ = self.envs[copy].reset(**kwargs)
        except Exception as error:
            raise Refusal(f"{describe(error)} {where}") from None
        flat = self.flat(obs, where)
        self.episode_steps[copy] = 0
        return flat

    def send_buffer(self, length):
        """Sends the first `length` bytes of the buffer as an ok reply."""
        HEADER.pack_into(self.buffer, 0, length - U32.size, 0)
        write_all(memoryview(self.buffer)[:length])

    def reset(self, request):
        if len(request) != SEED.size * len(self.envs):
            raise Refusal(f"RESET carries {len(request)} bytes, not {SEED.size} per copy")
        for copy in range(len(self.envs)):
            has_seed, seed = SEED.unpack_from(request, SEED.size * copy)
            self.obs_out[copy] = self.reset_copy(copy, **({"seed": seed} if has_seed else {}))
        self.send_buffer(HEADER.size + self.obs_out.nbytes)

    def step(self, request):
        if len(request) != self.action_bytes:
            raise Refusal(f"STEP carries {len(request)} bytes of actions, not {self.action_bytes}")
        if None in self.episode_steps:
            raise Refusal(f"copy {self.episode_steps.index(None)} was stepped without a reset")
        if self.discrete:  # numpy integers, as Gymnasium's own vector environments pass them
            actions = np.frombuffer(request, "<i8") + self.start
        else:
            actions = np.frombuffer(request, "<f4").reshape(self.action_shape).astype(self.action_dtype)
        obs_out, rewards, finals = self.obs_out, self.rewards, self.finals
        terminated_out, truncated_out, episode_steps = self.terminated, self.truncated, self.episode_steps
        ended = 0
        for copy, env in enumerate(self.envs):
            n = episode_steps[copy] = episode_steps[copy] + 1
            try:
                obs, reward, terminated, truncated, _ = env.step(actions[copy])
                reward = float(reward)
            except Exception as error:
                episode_steps[copy] = None
                raise Refusal(f"{describe(error)} (in step {n} of copy {self.first_copy + copy}'s episode)") from None
            flat = self.flat(obs, f"(in step {n} of copy {self.first_copy + copy}'s episode)")
            rewards[copy] = reward
            terminated_out[copy] = terminated
            truncated_out[copy] = truncated
            if terminated or truncated:  # same-step autoreset: keep the last, start the next
                finals[ended] = flat
                ended += 1
                flat = self.reset_copy(copy)
            obs_out[copy] = flat
        self.send_buffer(self.fixed_step_bytes + ended * 4 * self.size)

    def render(self, request):
        if len(request) != U32.size:
            raise Refusal("malformed RENDER request")
        (copy,) = U32.unpack(request)
        if copy >= len(self.envs):
            raise Refusal(f"RENDER asks for copy {copy} of {len(self.envs)}")
        try:
            frame = self.envs[copy].render()
        except Exception as error:
            raise Refusal(f"{describe(error)} (in render of copy {self.first_copy + copy})") from None
        if not isinstance(frame, np.ndarray):
            raise Refusal(f"render() returned {type(frame).__name__ if frame is not None else 'None'}:"
                          ' make the environment with render_mode="rgb_array"')
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
            raise Refusal(f"render() returned an array of shape {frame.shape} and dtype {frame.dtype},"
                          " not height x width x 3 uint8: make the environment with"
                          ' render_mode="rgb_array"')
        rgb = np.ascontiguousarray(frame[:, :, :3])  # an alpha channel is dropped
        reply(0, SIZE_2.pack(frame.shape[0], frame.shape[1]) + rgb.tobytes())


def die_with_parent():
    """Asks Linux to SIGKILL this process when its parent dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        pass


def parent_gone(parent_pid):
    """True when `parent_pid` died before die_with_parent could take effect."""
    if parent_pid is None or os.getppid() == parent_pid:
        return False
    try:  # another parent: a wrapper that did not exec sits between us, or we were orphaned
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass  # exists but is not ours to signal
    return False


def main():
    parser = argparse.ArgumentParser(prog="python3 -m agentlab_gymnasium",
                                     description="AgentLab's Gymnasium worker (see docs/gymnasium-bridge.md)")
    parser.add_argument("--parent-pid", type=int, help="the agentlab process; exit at once if it is gone")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for agentlab, which stops us itself
    die_with_parent()
    if parent_gone(args.parent_pid):
        return 0
    os.dup2(2, 1)  # an environment's print goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    try:
        os.set_inheritable(REQUEST_FD, False)
        os.set_inheritable(REPLY_FD, False)
    except OSError:
        print("agentlab_gymnasium: file descriptors 3 and 4 must be the request and reply pipes",
              file=sys.stderr)
        return 2
    worker = Worker()
    handlers = {MAKE: worker.make, RESET: worker.reset, STEP: worker.step, RENDER: worker.render}
    try:
        while True:
            head = read_exactly(U32.size)
            frame = None if head is None else read_exactly(U32.unpack(head)[0])
            opcode = frame[0] if frame else None
            if frame is None or opcode == CLOSE:  # end of file, or CLOSE
                break
            try:
                if np is None:
                    raise Refusal(not_installed("numpy"))
                if opcode not in handlers:
                    raise Refusal(f"unknown request opcode {opcode}")
                if opcode != MAKE and not worker.envs:
                    raise Refusal("no environment: the first request must be MAKE")
                handlers[opcode](memoryview(frame)[1:])
            except Refusal as refusal:
                reply(1, str(refusal).encode("utf-8", "replace"))
            except Exception as error:  # an environment's constructor, or a worker bug
                reply(1, describe(error).encode("utf-8", "replace"))
    except BrokenPipeError:
        pass  # agentlab stopped reading: it is going away
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
