/// How to make one registered environment: its id, what it is, its time limit and the
/// return that counts as solved (Gymnasium's `EnvSpec`).
public struct EnvironmentSpec: Sendable {
    /// The id users type, in Gymnasium's style: `CartPole-v1`, `Breakout-MinAtar`.
    public let id: String
    /// One line saying what the environment is.
    public let summary: String
    /// Episodes are truncated after this many steps (`TimeLimit`); `nil` for no limit.
    public let maxEpisodeSteps: Int?
    /// The average return at which the task counts as solved; `nil` when there is none.
    public let rewardThreshold: Double?
    /// Makes the bare environment, without the time limit. The value behind the
    /// existential is a concrete struct, so generic code that opens it
    /// (`func f<E: Environment>(_ e: E)` called with an `any Environment`) specialises.
    public let makeBase: @Sendable () -> any Environment
    /// Makes `count` copies stepped together, for environments whose copies live outside
    /// this process (Gymnasium's workers); nil: `makeVectorEnvironment(makeEnvironment(), count:)`.
    public let makeVector: (@Sendable (_ count: Int) throws(EnvironmentError) -> any VectorStepping)?

    /// A spec; `makeBase` makes the environment without its time limit (the spec adds it).
    public init(
        id: String, summary: String, maxEpisodeSteps: Int?, rewardThreshold: Double?,
        makeBase: @escaping @Sendable () -> any Environment,
        makeVector: (@Sendable (_ count: Int) throws(EnvironmentError) -> any VectorStepping)? = nil
    ) {
        precondition(maxEpisodeSteps.map { $0 > 0 } ?? true, "a step limit must be positive")
        self.id = id
        self.summary = summary
        self.maxEpisodeSteps = maxEpisodeSteps
        self.rewardThreshold = rewardThreshold
        self.makeBase = makeBase
        self.makeVector = makeVector
    }

    /// `count` copies of the environment as users get it, stepped together.
    public func makeVectorEnvironment(count: Int) throws(EnvironmentError) -> any VectorStepping {
        if let makeVector { return try makeVector(count) }
        return Environments.makeVectorEnvironment(makeEnvironment(), count: count)
    }

    /// The environment as users get it: the base wrapped in `TimeLimit` when the spec has
    /// a step limit (for `CartPole-v1` the concrete type is `TimeLimit<CartPole>`).
    public func makeEnvironment() -> any Environment {
        let base = makeBase()
        guard let maxEpisodeSteps else { return base }
        return Self.limit(base, to: maxEpisodeSteps)
    }

    /// Opens the existential so the wrapper is `TimeLimit<Concrete>`, not
    /// `TimeLimit<any Environment>`.
    private static func limit<Base: Environment>(_ base: Base, to steps: Int) -> any Environment {
        TimeLimit(base, maxEpisodeSteps: steps)
    }
}

import Synchronization

/// The environments AgentLab knows by id.
///
/// | id                       | environment                           | step limit | threshold |
/// |--------------------------|---------------------------------------|------------|-----------|
/// | `CartPole-v1`            | `CartPole`                            | 500        | 475       |
/// | `CartPole-NoVelocity-v1` | `CartPoleNoVelocity` (x, theta)       | 500        | 475       |
/// | `GridWorld-v0`           | `GridWorld` on `Map.small`            | 100        | 1         |
/// | `GridWorld-Cliff-v0`     | `GridWorld.cliffWalking()`            | 200        | −13       |
/// | `GridWorld-FourRooms-v0` | `GridWorld.fourRooms()`               | 500        | 1         |
/// | `TMaze-v0`               | `TMaze` (a 10-cell corridor)          | 48         | 0.9       |
/// | `Acrobot-v1`             | `Acrobot`                             | 500        | −100      |
/// | `MountainCar-v0`         | `MountainCar`                         | 200        | −110      |
/// | `Pendulum-v1`            | `Pendulum` (a torque in ±2)           | 200        | none: Gymnasium has none |
/// | `MountainCarContinuous-v0` | `MountainCarContinuous` (a force in ±1) | 999      | 90        |
/// | `Breakout-MinAtar`, `SpaceInvaders-MinAtar`, `Freeway-MinAtar`, `Asterix-MinAtar`, `Seaquest-MinAtar` | `MinAtarEnvironment<Game>` (sticky actions 0.1, all six actions) | 10,000 | none |
///
/// The grid thresholds are the optimal undiscounted returns (see `GridWorldMaps.swift`);
/// the classic-control limits and thresholds are Gymnasium's.
/// Each built-in map has its own id rather than an option, so that every id names one
/// fixed task with one threshold.
///
/// Two tasks need memory (a recurrent policy): CartPole-NoVelocity-v1 keeps CartPole-v1's
/// limit and threshold; TMaze-v0's limit is its `stepLimit`, 4 × (10 + 2), and its
/// threshold asks for the arm the cue named in at least 95% of episodes, where guessing
/// averages 0.
///
/// A program adds its own environments to `standard` with `EnvironmentRegistry.register(_:)`;
/// from then on training, evaluation, the presets' fallback and the checker find them by id.
/// Ids starting with `gymnasium:` name Gymnasium environments, run in Python workers
/// (`GymnasiumBridge`); `spec(id:)` asks a worker what they are, once per process.
public struct EnvironmentRegistry: Sendable {
    /// The registered specs, in the order they were added.
    public private(set) var specs: [EnvironmentSpec]

    /// A registry of `specs`, a later spec replacing an earlier one with the same id.
    public init(specs: [EnvironmentSpec] = []) {
        self.specs = []
        for spec in specs { register(spec) }
    }

    /// Every built-in environment, and those the program registered.
    public static var standard: EnvironmentRegistry { shared.withLock { $0 } }

    /// The built-in environments alone, whatever the program registered.
    public static let builtIn = EnvironmentRegistry(specs: classicSpecs + minAtarSpecs)

    private static let shared = Mutex(builtIn)

    /// Adds `spec` to `standard` for the rest of the process, replacing a spec with the
    /// same id: the way a program makes its own environment trainable by id, e.g.
    /// `EnvironmentRegistry.register(EnvironmentSpec(id: "Catch-v0", summary: "...",
    /// maxEpisodeSteps: 100, rewardThreshold: 0.9, makeBase: { Catch() }))`.
    public static func register(_ spec: EnvironmentSpec) {
        precondition(!spec.id.isEmpty && !spec.id.hasPrefix(GymnasiumBridge.prefix),
                     "an environment id must not be empty or start with \(GymnasiumBridge.prefix)")
        shared.withLock { $0.register(spec) }
    }

    /// The registered ids, in order.
    public var ids: [String] { specs.map(\.id) }

    /// Adds `spec`, replacing a spec with the same id.
    public mutating func register(_ spec: EnvironmentSpec) {
        if let index = specs.firstIndex(where: { $0.id == spec.id }) {
            specs[index] = spec
        } else {
            specs.append(spec)
        }
    }

    /// The spec registered as `id`.
    /// - Throws: `EnvironmentError.unknownID` listing the known ids.
    public func spec(id: String) throws(EnvironmentError) -> EnvironmentSpec {
        if let spec = specs.first(where: { $0.id == id }) { return spec }
        if id.hasPrefix(GymnasiumBridge.prefix) {
            do { return try GymnasiumBridge.spec(id: id) } catch { throw .external(error.description) }
        }
        throw .unknownID(id, known: ids)
    }

    /// A fresh environment for `id`, wrapped in `TimeLimit` when its spec has a step limit.
    /// - Throws: `EnvironmentError.unknownID` listing the known ids.
    public func makeEnvironment(id: String) throws(EnvironmentError) -> any Environment {
        try spec(id: id).makeEnvironment()
    }

    /// CartPole with and without its velocities, the grid worlds, the T-maze, Acrobot,
    /// MountainCar, Pendulum and MountainCarContinuous.
    public static let classicSpecs: [EnvironmentSpec] = [
        EnvironmentSpec(
            id: "CartPole-v1",
            summary: "Balance a pole on a cart by pushing it left or right (Gymnasium's dynamics).",
            maxEpisodeSteps: 500, rewardThreshold: 475,
            makeBase: { CartPole() }),
        EnvironmentSpec(
            id: "CartPole-NoVelocity-v1",
            summary: "CartPole-v1 seen without its velocities (cart position and pole angle only): balancing needs memory.",
            maxEpisodeSteps: 500, rewardThreshold: 475,
            makeBase: { CartPoleNoVelocity() }),
        EnvironmentSpec(
            id: "GridWorld-v0",
            summary: "Walk from start to goal on a 5×5 grid with four pillars and a pit.",
            maxEpisodeSteps: 100, rewardThreshold: 1,
            makeBase: { GridWorld(map: .small) }),
        EnvironmentSpec(
            id: "GridWorld-Cliff-v0",
            summary: "Sutton & Barto's cliff walk: −1 per step, −100 and back to start for the cliff.",
            maxEpisodeSteps: 200, rewardThreshold: -13,
            makeBase: { GridWorld.cliffWalking() }),
        EnvironmentSpec(
            id: "GridWorld-FourRooms-v0",
            summary: "Sutton, Precup & Singh's four rooms: reach the far corner through the doorways.",
            maxEpisodeSteps: 500, rewardThreshold: 1,
            makeBase: { GridWorld.fourRooms() }),
        EnvironmentSpec(
            id: "TMaze-v0",
            summary: "Bakker's T-maze: a cue shown only at the start of a 10-cell corridor names the arm to take at its end: +1 for the arm the cue named, −1 for the other, 1/48 for each step that does not head for the arms.",
            maxEpisodeSteps: TMaze().stepLimit, rewardThreshold: 0.9,
            makeBase: { TMaze() }),
        EnvironmentSpec(
            id: "Acrobot-v1",
            summary: "Swing a two-link pendulum's tip above a line by torquing its middle joint (Gymnasium's dynamics).",
            maxEpisodeSteps: 500, rewardThreshold: -100,
            makeBase: { Acrobot() }),
        EnvironmentSpec(
            id: "MountainCar-v0",
            summary: "Rock an underpowered car out of a valley up to the flag (Gymnasium's dynamics).",
            maxEpisodeSteps: 200, rewardThreshold: -110,
            makeBase: { MountainCar() }),
        EnvironmentSpec(
            id: "Pendulum-v1",
            summary: "Swing a pendulum upright and hold it there with a bounded torque (Gymnasium's dynamics).",
            maxEpisodeSteps: 200, rewardThreshold: nil,
            makeBase: { Pendulum() }),
        EnvironmentSpec(
            id: "MountainCarContinuous-v0",
            summary: "Push a car out of a valley to the flag with a continuous force that costs reward (Gymnasium's dynamics).",
            maxEpisodeSteps: 999, rewardThreshold: 90,
            makeBase: { MountainCarContinuous() }),
    ]
}

/// A fresh environment for `id` from the standard registry, wrapped in its time limit.
/// - Throws: `EnvironmentError.unknownID` listing the known ids.
public func makeEnvironment(id: String) throws(EnvironmentError) -> any Environment {
    try EnvironmentRegistry.standard.makeEnvironment(id: id)
}
