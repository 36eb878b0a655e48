import Environments

/// The algorithms AgentLab knows by name, read by every consumer: `agentlab train`'s
/// `--algo` and its help, `presets`, config files, `--resume`, `eval`, `watch` and the
/// smoke tests.
///
/// | name        | agent       | what                                                           |
/// |-------------|-------------|----------------------------------------------------------------|
/// | `ppo`       | `PPO`       | clipped-surrogate policy optimisation (CleanRL's `ppo.py`)      |
/// | `dqn`       | `DQN`       | deep Q-learning with replay and a target network               |
/// | `a2c`       | `A2C`       | synchronous advantage actor-critic (SB3's defaults)            |
/// | `reinforce` | `REINFORCE` | Monte-Carlo policy gradient with a learned baseline            |
/// | `sac`       | `SAC`       | soft actor-critic for continuous actions (SB3's `SAC`)         |
/// | `td3`       | `TD3`       | twin delayed DDPG for continuous actions (SB3's `TD3`)         |
///
/// Adding an algorithm is one file (the agent, its `Configuration`, and its
/// `registration` with presets) plus one line in `standard`.
public struct AlgorithmRegistry: Sendable {
    /// The registered algorithms, in the order they were added.
    public private(set) var specs: [AlgorithmSpec]

    public init(specs: [AlgorithmSpec] = []) {
        self.specs = []
        for spec in specs { register(spec) }
    }

    /// Every built-in algorithm.
    public static let standard = AlgorithmRegistry(specs: [
        PPO.registration,
        RecurrentPPO.registration,
        DQN.registration,
        A2C.registration,
        REINFORCE.registration,
        SAC.registration,
        TD3.registration,
    ])

    /// The registered names, in order.
    public var names: [String] { specs.map(\.name) }

    /// The names of the algorithms that learn in `space`, in order.
    public func names(for space: ActionSpace) -> [String] {
        specs.filter { $0.actionKinds.admit(space) }.map(\.name)
    }

    /// Adds `spec`, replacing a spec with the same name.
    public mutating func register(_ spec: AlgorithmSpec) {
        if let index = specs.firstIndex(where: { $0.name == spec.name }) {
            specs[index] = spec
        } else {
            specs.append(spec)
        }
    }

    /// The spec registered as `name`.
    /// - Throws: `TrainingError.invalidConfiguration` listing the known names.
    public func spec(named name: String) throws(TrainingError) -> AlgorithmSpec {
        guard let spec = specs.first(where: { $0.name == name }) else {
            throw .invalidConfiguration("unknown algorithm '\(name)'; known algorithms: \(names.joined(separator: ", "))")
        }
        return spec
    }
}

/// Groups of built-in environments that share tuned settings, for the presets.
public enum PresetEnvironments {
    public static let cartPole = ["CartPole-v1"]
    /// The grid worlds that reward reaching a goal.
    public static let gridWorlds = ["GridWorld-v0", "GridWorld-FourRooms-v0"]
    /// Sutton & Barto's cliff walk, where standing still looks safe.
    public static let cliff = ["GridWorld-Cliff-v0"]
    /// Acrobot-v1: swing the tip above the line.
    public static let acrobot = ["Acrobot-v1"]
    /// MountainCar-v0: rock the car out of the valley (sparse: −1 per step until the flag).
    public static let mountainCar = ["MountainCar-v0"]
    /// Pendulum-v1: swing a pendulum up and hold it (continuous torque).
    public static let pendulum = ["Pendulum-v1"]
    /// MountainCarContinuous-v0: the car on the hill with a continuous force.
    public static let mountainCarContinuous = ["MountainCarContinuous-v0"]
    /// The five arcade games.
    public static let minAtar = EnvironmentRegistry.minAtarSpecs.map(\.id)
    /// CartPole seen through its positions only: balancing needs memory of past steps.
    public static let cartPoleNoVelocity = ["CartPole-NoVelocity-v1"]
    /// The T-maze: the cue seen at the start decides the arm at the end.
    public static let tMaze = ["TMaze-v0"]
}
