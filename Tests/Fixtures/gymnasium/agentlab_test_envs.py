"""Small Gymnasium environments for testing AgentLab's Gymnasium bridge.

Tests put this folder on PYTHONPATH and name a class as `gymnasium:agentlab_test_envs:NAME`.
Importing the module also registers `AgentLabCounting-v0` (CountingEnv with
max_episode_steps 2 and reward_threshold 5), for the `module:id` form.
"""
import time

import gymnasium
import numpy as np
from gymnasium import spaces


class _TwoNumbers(gymnasium.Env):
    """Shared base: a Box(2) observation of zeros, Discrete(2) actions, reward 1 a step."""

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.count = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count = 0
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        self.count += 1
        return np.zeros(2, dtype=np.float32), 1.0, False, False, {}


class RaisingEnv(_TwoNumbers):
    """Raises ValueError("the reactor overheated") on the 3rd step of every episode."""

    def step(self, action):
        if self.count == 2:
            raise ValueError("the reactor overheated")
        return super().step(action)


class HangingEnv(_TwoNumbers):
    """Never returns from the 2nd step of an episode (for reply timeouts)."""

    def step(self, action):
        if self.count == 1:
            while True:
                time.sleep(3600)
        return super().step(action)


class DictObservationEnv(_TwoNumbers):
    """Dict observations, which AgentLab refuses."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.observation_space = spaces.Dict({"position": spaces.Box(-1.0, 1.0, shape=(2,))})

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return {"position": np.zeros(2, dtype=np.float32)}, {}

    def step(self, action):
        return {"position": np.zeros(2, dtype=np.float32)}, 1.0, False, False, {}


class MultiDiscreteActionEnv(_TwoNumbers):
    """MultiDiscrete([2, 3]) actions, which AgentLab refuses."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.action_space = spaces.MultiDiscrete([2, 3])


class CountingEnv(gymnasium.Env):
    """An observation that tells its own story, for autoreset, action offsets and rendering.

    Box(2, 2) float32 observation [[step count, last action], [episode number, seed]]:
    the step count is 0 after a reset; the last action is 0 before the first step; the
    episode number is how many resets this copy has had (1 in the first episode); the seed
    is the one given to reset, or -1 for an unseeded reset. Actions are Discrete(3, start=1)
    (1, 2 or 3; anything else raises ValueError), the reward is the action received, and the
    episode terminates when the step count reaches 3. With render_mode="rgb_array", render()
    returns a 4 x 6 x 3 uint8 frame whose pixel (y, x) is (step count, y, x).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(2, 2), dtype=np.float32)
        self.action_space = spaces.Discrete(3, start=1)
        self.count, self.action, self.episode, self.seed_used = 0, 0, 0, -1

    def _observation(self):
        return np.array([[self.count, self.action], [self.episode, self.seed_used]], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count, self.action = 0, 0
        self.episode += 1
        self.seed_used = -1 if seed is None else seed
        return self._observation(), {}

    def step(self, action):
        if action not in (1, 2, 3):
            raise ValueError(f"action {action!r} is not in Discrete(3, start=1)")
        self.count += 1
        self.action = int(action)
        return self._observation(), float(action), self.count >= 3, False, {}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        frame = np.zeros((4, 6, 3), dtype=np.uint8)
        frame[:, :, 0] = self.count
        frame[:, :, 1] = np.arange(4)[:, None]
        frame[:, :, 2] = np.arange(6)[None, :]
        return frame


class PrintingEnv(CountingEnv):
    """CountingEnv (without rendering) that prints to stdout on every call."""

    metadata = {"render_modes": []}

    def __init__(self):
        print("PrintingEnv: made")
        super().__init__()

    def reset(self, *, seed=None, options=None):
        print("PrintingEnv: reset")
        return super().reset(seed=seed, options=options)

    def step(self, action):
        print(f"PrintingEnv: step with action {action}", flush=True)
        return super().step(action)

    def render(self):
        return None


gymnasium.register("AgentLabCounting-v0", entry_point=CountingEnv, max_episode_steps=2,
                   reward_threshold=5.0)
