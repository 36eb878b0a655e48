import Foundation
import SeededRandom

/// MountainCarContinuous-v0: drive an underpowered car out of a valley to the flag on the
/// right-hand hill, choosing how hard to push on every step; pushing costs reward.
///
/// The dynamics reproduce Gymnasium's `Continuous_MountainCarEnv` step for step: the same
/// constants, the velocity updated first and the position moved with the new velocity, both
/// clipped, with Gymnasium's order of operations (see `Tests/EnvironmentsTests/Reference`).
/// Gymnasium keeps the starting state in float64 but stores every later state as float32,
/// and the force arrives as a float32 array, so NumPy 2's promotion rules make most of a
/// step single precision: the step reproduces each operation's precision, and its states
/// match Gymnasium's to the bit.
///
/// **Action space**: `Box(-1, 1, shape: [1])`: the force, positive to the right. Values
/// beyond ±1 are clipped for the dynamics (the reward's penalty uses the value as given,
/// as Gymnasium's does); a NaN or infinite force is refused.
///
/// **Observation space**: 2 floats `[position, velocity]`: the car's position along the
/// x axis in [-1.2, 0.6] and its velocity in [-0.07, 0.07]. The hill's height at position x
/// is proportional to sin(3x).
///
/// **Rewards**: -0.1 · a² on every step, a the action as given (unclipped), plus 100 on the
/// step that reaches the flag.
///
/// **Starting state**: the position uniform in [-0.6, -0.4), drawn from the environment's
/// `SeededGenerator`; the velocity 0.
///
/// **Episode end**: terminated when the car reaches the flag, position ≥ 0.45 with a
/// velocity ≥ 0. At the left wall (position -1.2) a car still moving left stops dead. The
/// environment itself never truncates: MountainCarContinuous-v0's 999-step limit is the
/// `TimeLimit` wrapper that the registry puts around it.
public struct MountainCarContinuous: Environment, Sendable {
    /// The physical state, MountainCar's, in double precision (after the first step of an
    /// episode, the values are single-precision numbers, as Gymnasium stores them).
    public typealias State = MountainCar.State

    // Gymnasium's constants; the hill, its walls and its speed limit are MountainCar's.
    /// The left wall.
    public static let minPosition = MountainCar.minPosition
    /// The right edge of the world.
    public static let maxPosition = MountainCar.maxPosition
    /// The speed limit, either way.
    public static let maxSpeed = MountainCar.maxSpeed
    /// The flag: an episode ends when the car reaches it moving right (or stopped).
    public static let goalPosition = 0.45
    public static let goalVelocity = 0.0
    /// The change of velocity per step of a full force (action ±1).
    public static let power = 0.0015
    /// The pull of the slope: the velocity changes by -gravity · cos(3 · position) per step.
    public static let gravity = MountainCar.gravity
    /// The force bounds; actions beyond them are clipped.
    public static let minAction: Float = -1, maxAction: Float = 1
    /// The forces `step` takes: one float in [`minAction`, `maxAction`] (beyond it, clipped).
    public static let forceSpace = Box(low: minAction, high: maxAction, shape: [1])

    /// The current physical state. Set it after `reset` (or use `reset(to:into:)`) to
    /// start from an exact state.
    public var state: State
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted
    /// Whether `state` holds Gymnasium's float32 state (after a step) rather than the
    /// float64 one that `reset` makes; it decides the precision of the next step's arithmetic.
    @usableFromInline var stateIsSinglePrecision = false

    /// Where the episode stands; stepping is allowed only while `.running`.
    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// A car whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0) {
        generator = SeededGenerator(seed: seed)
        state = State(position: -0.5, velocity: 0)
    }

    public var observationSpace: Box {
        Box(low: [Float(Self.minPosition), Float(-Self.maxSpeed)],
            high: [Float(Self.maxPosition), Float(Self.maxSpeed)], shape: [2])
    }

    public var actionSpace: ActionSpace { .box(Self.forceSpace) }

    public var actionNames: [String] { ["force"] }
    public var observationNames: [String] { ["position", "velocity"] }

    /// Whether the current episode has terminated (the car reached the flag).
    public var isTerminated: Bool { phase == .ended }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        reset(to: State(position: generator.uniform(-0.6, -0.4), velocity: 0), into: observation)
    }

    /// Starts an episode from exactly `state` (for tests and reference traces) and writes
    /// its observation. The generator is left as it was. The first step computes in double
    /// precision, as Gymnasium's first step after `reset` does.
    @inlinable
    public mutating func reset(to state: State, into observation: UnsafeMutableBufferPointer<Float>) {
        self.state = state
        stateIsSinglePrecision = false
        phase = .running
        write(into: observation)
    }

    @inlinable
    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard phase == .running else { throw phase == .notStarted ? .notReset : .episodeEnded }
        try Self.forceSpace.check(action: action)

        // Gymnasium: force = min(max(action[0], -1.0), 1.0). Python's min and max keep the
        // float32 unless it is strictly beyond a bound; then the force is the Python float ±1.0,
        // and the push `force * power` is computed in double precision.
        let a = action[0]
        let clipped: Double? = a > Self.maxAction ? Double(Self.maxAction) : a < Self.minAction ? Double(Self.minAction) : nil

        let position: Double, velocity: Double, isTerminated: Bool
        if stateIsSinglePrecision {
            // The state is float32: NumPy 2 rounds each Python float operand to float32 and
            // computes in single precision (comparisons included).
            let p = Float(state.position), v = Float(state.velocity)
            let slope = Self.gravity * cos(Double(3 * p))  // math.cos of the float32 3·p
            let change: Float = if let clipped {
                Float(clipped * Self.power - slope)  // a Python float, rounded as it meets the float32
            } else {
                a * Float(Self.power) - Float(slope)
            }
            var newVelocity = v + change
            newVelocity = min(max(newVelocity, -Float(Self.maxSpeed)), Float(Self.maxSpeed))
            var newPosition = p + newVelocity
            newPosition = min(max(newPosition, Float(Self.minPosition)), Float(Self.maxPosition))
            if newPosition == Float(Self.minPosition) && newVelocity < 0 { newVelocity = 0 }  // the wall stops the car
            isTerminated = newPosition >= Float(Self.goalPosition) && newVelocity >= Float(Self.goalVelocity)
            position = Double(newPosition)
            velocity = Double(newVelocity)
        } else {
            // The float64 state of a reset: double precision, except the float32 push.
            let slope = Self.gravity * cos(3 * state.position)
            let change: Double = if let clipped {
                clipped * Self.power - slope
            } else {
                Double(a * Float(Self.power) - Float(slope))
            }
            var newVelocity = state.velocity + change
            newVelocity = min(max(newVelocity, -Self.maxSpeed), Self.maxSpeed)
            var newPosition = state.position + newVelocity
            newPosition = min(max(newPosition, Self.minPosition), Self.maxPosition)
            if newPosition == Self.minPosition && newVelocity < 0 { newVelocity = 0 }  // the wall stops the car
            isTerminated = newPosition >= Self.goalPosition && newVelocity >= Self.goalVelocity
            // Gymnasium stores the new state as float32.
            position = Double(Float(newPosition))
            velocity = Double(Float(newVelocity))
        }
        state = State(position: position, velocity: velocity)
        stateIsSinglePrecision = true

        // The penalty uses the action as given, not the clipped force (Gymnasium's
        // `math.pow(action[0], 2) * 0.1`; the float32's square is exact in double precision).
        let square = Double(a) * Double(a)
        let reward = (isTerminated ? 100.0 : 0.0) - square * 0.1
        if isTerminated { phase = .ended }
        write(into: observation)
        return StepOutcome(reward: Float(reward), isTerminated: isTerminated)
    }

    /// Writes `[position, velocity]` as floats.
    @inlinable
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 2, "MountainCarContinuous writes 2 floats, the buffer holds \(observation.count)")
        observation[0] = Float(state.position)
        observation[1] = Float(state.velocity)
    }

    /// The size of `render()`'s frame, as Gymnasium's.
    public static let frameWidth = MountainCar.frameWidth, frameHeight = MountainCar.frameHeight

    /// A 600×400 picture in Gymnasium's colours, drawn as `MountainCar`'s: the hill (black
    /// curve, 1 world unit = 600 / 1.8 px, column (x + 1.2) · 333.3, row
    /// 400 - `MountainCar.height(at: x)` · 333.3), the black 40×20 car standing 10 px above
    /// the curve and tilted by cos(3x) rad, its grey wheels, and the flag at x = 0.45: a
    /// black pole 50 px high with a yellow pennant.
    public func render() -> Frame {
        // The pole stands in the column Gymnasium truncates the flag's x to (at 0.45 the
        // exact column is 550 less a rounding error: a line centred there would fall
        // between two columns).
        MountainCar.drawScene(position: state.position, goalPosition: Self.goalPosition, truncatesFlagColumn: true)
    }

}

// Saving and restoring the whole state (a resumed run continues exactly).
extension MountainCarContinuous: Codable {}
extension MountainCarContinuous.EpisodePhase: Codable {}
