import SeededRandom

/// Something an agent can play: Gymnasium's contract in Swift.
///
/// - `reset(seed:into:)` starts an episode and writes its first observation. A seed fixes
///   the environment's generator; `nil` continues from where it was, so a sequence of
///   resets after one seeded reset is itself reproducible.
/// - `step(_:into:)` applies one action, writes the next observation and returns the
///   reward and whether the episode ended. A discrete environment implements the
///   `Int` form, a continuous one the `UnsafeBufferPointer<Float>` form (one float per
///   dimension of its `Box`); the other form throws `.wrongActionKind`. `isTerminated` means the task ended (a pole
///   fell, a goal was reached): do not bootstrap. `isTruncated` means it was cut short (a
///   time limit): a learner still bootstraps from the observation.
/// - Stepping an episode that has ended, or one never reset, throws
///   `EnvironmentError.episodeEnded` / `.notReset`; there is no silent reset.
/// - `render()` draws the current state into a `Frame` of the environment's choosing.
///
/// Observations are written into caller-owned storage of exactly
/// `observationSpace.count` floats, so a vector of environments fills one contiguous
/// buffer without allocating. The array-returning conveniences below are for tests and
/// tools, not hot loops.
public protocol Environment {
    /// The shape and bounds of observations.
    var observationSpace: Box { get }
    /// The actions `step` accepts: `.discrete(n)`, actions `0..<n`, or `.box(b)`, a vector
    /// of `b.count` floats (a continuous environment clips each to its bounds, as
    /// Gymnasium's do).
    var actionSpace: ActionSpace { get }
    /// Human-readable action names: one per action of a discrete space (`"left"`,
    /// `"fire"`), one per dimension of a box (`"torque"`).
    var actionNames: [String] { get }

    /// Starts a new episode and writes its first observation into `observation`.
    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>)

    /// Applies the discrete `action`, writes the next observation into `observation` and
    /// returns the reward and end flags.
    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome

    /// Applies the continuous `action` (`actionSpace`'s box size of floats), writes the
    /// next observation into `observation` and returns the reward and end flags.
    mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome

    /// Draws the current state for a person.
    func render() -> Frame

    /// Where the observation's floats lie in `render()`'s frame: for observations that are
    /// cells of a grid drawn over the whole frame (the arcade games, the grid worlds), the
    /// grid; nil for a vector of quantities (CartPole). The default reads an observation
    /// shaped [rows, columns, channels] as its grid. Saliency overlays use it.
    var observationGrid: ObservationGrid? { get }

    /// A short name for each observation float (`"x"`, `"θ velocity"`), for panels that
    /// show them; empty (the default) when the floats have no names of their own.
    var observationNames: [String] { get }
}

/// An observation laid out as the cells of a `rows × columns` grid that covers the frame,
/// row by row, each cell `count / (rows × columns)` consecutive floats (its channels).
public struct ObservationGrid: Equatable, Sendable {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        precondition(rows > 0 && columns > 0, "a grid needs rows and columns, got \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
    }
}

/// The reward and end flags of one step; the observation is written separately.
public struct StepOutcome: Equatable, Sendable {
    public var reward: Float
    /// The episode ended for the task: no bootstrapping from the next observation.
    public var isTerminated: Bool
    /// The episode was cut short (time limit): bootstrap from the next observation.
    public var isTruncated: Bool

    public init(reward: Float, isTerminated: Bool = false, isTruncated: Bool = false) {
        self.reward = reward
        self.isTerminated = isTerminated
        self.isTruncated = isTruncated
    }

    /// The episode is over, either way.
    @inline(__always) public var isDone: Bool { isTerminated || isTruncated }
}

/// One step with its observation as an array (for tests and tools).
public struct Step: Equatable, Sendable {
    public var observation: [Float]
    public var reward: Float
    public var isTerminated: Bool
    public var isTruncated: Bool
    public var isDone: Bool { isTerminated || isTruncated }
}

extension Environment {
    public var observationNames: [String] { [] }

    public var observationGrid: ObservationGrid? {
        let shape = observationSpace.shape
        return shape.count == 3 ? ObservationGrid(rows: shape[0], columns: shape[1]) : nil
    }

    public var actionNames: [String] {
        switch actionSpace {
        case .discrete(let space): (0..<space.count).map { "action \($0)" }
        case .box(let space): (0..<space.count).map { "dimension \($0)" }
        }
    }

    /// A discrete environment takes no vector of floats.
    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        throw .wrongActionKind(expected: actionSpace)
    }

    /// A continuous environment takes no action number.
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        throw .wrongActionKind(expected: actionSpace)
    }

    /// Starts a new episode and returns its first observation.
    public mutating func reset(seed: UInt64? = nil) -> [Float] {
        var observation = [Float](repeating: 0, count: observationSpace.count)
        observation.withUnsafeMutableBufferPointer { reset(seed: seed, into: $0) }
        return observation
    }

    /// Applies `action` and returns the observation with the reward and end flags.
    public mutating func step(_ action: Int) throws(EnvironmentError) -> Step {
        var observation = [Float](repeating: 0, count: observationSpace.count)
        let outcome = try observation.withUnsafeMutableBufferPointer {
            (buffer) throws(EnvironmentError) -> StepOutcome in
            try step(action, into: buffer)
        }
        return Step(
            observation: observation, reward: outcome.reward,
            isTerminated: outcome.isTerminated, isTruncated: outcome.isTruncated)
    }

    /// Applies the continuous `action` and returns the observation with the reward and end flags.
    public mutating func step(_ action: [Float]) throws(EnvironmentError) -> Step {
        var observation = [Float](repeating: 0, count: observationSpace.count)
        let outcome = try observation.withUnsafeMutableBufferPointer {
            (buffer) throws(EnvironmentError) -> StepOutcome in
            try action.withUnsafeBufferPointer { (action) throws(EnvironmentError) -> StepOutcome in
                try step(action, into: buffer)
            }
        }
        return Step(
            observation: observation, reward: outcome.reward,
            isTerminated: outcome.isTerminated, isTruncated: outcome.isTruncated)
    }
}
