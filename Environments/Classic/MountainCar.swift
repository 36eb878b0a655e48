import Foundation
import SeededRandom

/// MountainCar-v0: drive an underpowered car out of a valley to the flag on the right-hand
/// hill; the engine is too weak to climb straight up, so the car must rock back and forth.
///
/// The dynamics reproduce Gymnasium's `MountainCarEnv` step for step: the same constants,
/// the velocity updated first and the position moved with the new velocity, both clipped,
/// all in `Double` with Gymnasium's order of operations, observed as `Float` (see
/// `Tests/EnvironmentsTests/Reference`).
///
/// **Action space**: `Discrete(3)`. 0 accelerates left, 1 does not accelerate, 2
/// accelerates right.
///
/// **Observation space**: 2 floats `[position, velocity]`: the car's position along the
/// x axis in [-1.2, 0.6] and its velocity in [-0.07, 0.07]. The valley floor is at about
/// -0.52; the hill's height at position x is proportional to sin(3x).
///
/// **Rewards**: -1 on every step, the one that reaches the flag included.
///
/// **Starting state**: the position uniform in [-0.6, -0.4), drawn from the environment's
/// `SeededGenerator`; the velocity 0.
///
/// **Episode end**: terminated when the car reaches the flag, position ≥ 0.5 with a
/// velocity ≥ 0. At the left wall (position -1.2) a car still moving left stops dead. The
/// environment itself never truncates: MountainCar-v0's 200-step limit is the `TimeLimit`
/// wrapper that the registry puts around it.
public struct MountainCar: Environment, Sendable {
    /// The physical state, in double precision as Gymnasium keeps it.
    public struct State: Equatable, Sendable {
        /// Position along the x axis, in [`minPosition`, `maxPosition`].
        public var position: Double
        /// Velocity (position units per step), in ±`maxSpeed`.
        public var velocity: Double

        @inlinable
        public init(position: Double, velocity: Double) {
            self.position = position
            self.velocity = velocity
        }
    }

    // Gymnasium's constants.
    /// The left wall.
    public static let minPosition = -1.2
    /// The right edge of the world.
    public static let maxPosition = 0.6
    /// The speed limit, either way.
    public static let maxSpeed = 0.07
    /// The flag: an episode ends when the car reaches it moving right (or stopped).
    public static let goalPosition = 0.5
    public static let goalVelocity = 0.0
    /// The engine's change of velocity per step.
    public static let force = 0.001
    /// The pull of the slope: the velocity changes by -gravity · cos(3 · position) per step.
    public static let gravity = 0.0025

    /// The current physical state. Set it after `reset` (or use `reset(to:into:)`) to
    /// start from an exact state.
    public var state: State
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    /// Where the episode stands; stepping is allowed only while `.running`.
    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// A mountain car whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0) {
        generator = SeededGenerator(seed: seed)
        state = State(position: -0.5, velocity: 0)
    }

    public var observationSpace: Box {
        Box(low: [Float(Self.minPosition), Float(-Self.maxSpeed)],
            high: [Float(Self.maxPosition), Float(Self.maxSpeed)], shape: [2])
    }

    public var actionSpace: ActionSpace { .discrete(Discrete(3)) }

    public var actionNames: [String] { ["left", "no-op", "right"] }
    public var observationNames: [String] { ["position", "velocity"] }

    /// Whether the current episode has terminated (the car reached the flag).
    public var isTerminated: Bool { phase == .ended }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        reset(to: State(position: generator.uniform(-0.6, -0.4), velocity: 0), into: observation)
    }

    /// Starts an episode from exactly `state` (for tests and reference traces) and writes
    /// its observation. The generator is left as it was.
    @inlinable
    public mutating func reset(to state: State, into observation: UnsafeMutableBufferPointer<Float>) {
        self.state = state
        phase = .running
        write(into: observation)
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard phase == .running else { throw phase == .notStarted ? .notReset : .episodeEnded }
        guard UInt(bitPattern: action) < 3 else { throw .invalidAction(action, count: 3) }

        // The engine and the slope together, added to the velocity in one go (as Gymnasium
        // groups it, so rounding matches); then the position moves with the new velocity.
        let push = Double(action - 1) * Self.force
        var velocity = state.velocity + (push + cos(3 * state.position) * -Self.gravity)
        velocity = min(max(velocity, -Self.maxSpeed), Self.maxSpeed)
        var position = state.position + velocity
        position = min(max(position, Self.minPosition), Self.maxPosition)
        if position == Self.minPosition && velocity < 0 { velocity = 0 }  // the wall stops the car
        state = State(position: position, velocity: velocity)

        let isTerminated = position >= Self.goalPosition && velocity >= Self.goalVelocity
        if isTerminated { phase = .ended }
        write(into: observation)
        return StepOutcome(reward: -1, isTerminated: isTerminated)
    }

    /// Writes `[position, velocity]` as floats.
    @inlinable
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 2, "MountainCar writes 2 floats, the buffer holds \(observation.count)")
        observation[0] = Float(state.position)
        observation[1] = Float(state.velocity)
    }

    /// The size of `render()`'s frame, as Gymnasium's.
    public static let frameWidth = 600, frameHeight = 400

    /// The hill's height at `position`, in world units (Gymnasium's drawing curve).
    public static func height(at position: Double) -> Double {
        sin(3 * position) * 0.45 + 0.55
    }

    /// A 600×400 picture in Gymnasium's colours: the hill (black curve, 1 world unit =
    /// 600 / 1.8 px, column (x + 1.2) · 333.3, row 400 - height(x) · 333.3), the black
    /// 40×20 car standing 10 px above the curve and tilted by cos(3x) rad, its grey wheels,
    /// and the flag at x = 0.5: a black pole 50 px high with a yellow pennant.
    public func render() -> Frame {
        Self.drawScene(position: state.position, goalPosition: Self.goalPosition, truncatesFlagColumn: false)
    }

    /// The hill, the flag at `goalPosition` and the car at `position`, as Gymnasium draws
    /// them (MountainCarContinuous draws the same scene). With `truncatesFlagColumn` the pole
    /// is one pixel wide in the column Gymnasium truncates the flag's x to, otherwise a line
    /// at the exact x.
    static func drawScene(position: Double, goalPosition: Double, truncatesFlagColumn: Bool) -> Frame {
        var frame = Frame(width: Self.frameWidth, height: Self.frameHeight, fill: .white)
        let scale = Double(Self.frameWidth) / (Self.maxPosition - Self.minPosition)
        let bottom = Double(Self.frameHeight)
        /// The point on the curve at `x`, moved by (`along`, `up`) pixels turned
        /// counterclockwise by `angle` and then raised `raised` pixels, in frame
        /// coordinates (rows grow downwards).
        func point(
            atX x: Double, along: Double = 0, up: Double = 0, angle: Double = 0, raised: Double = 0
        ) -> (x: Double, y: Double) {
            let dx = along * cos(angle) - up * sin(angle)
            let dy = along * sin(angle) + up * cos(angle) + raised
            return ((x - Self.minPosition) * scale + dx, bottom - (Self.height(at: x) * scale + dy))
        }

        let samples = 100
        var previous = point(atX: Self.minPosition)
        for i in 1..<samples {
            let x = Self.minPosition + (Self.maxPosition - Self.minPosition) * Double(i) / Double(samples - 1)
            let next = point(atX: x)
            frame.drawLine(from: previous, to: next, thickness: 2, color: .black)
            previous = next
        }

        let flagBase = point(atX: goalPosition)
        let flagTop = (x: flagBase.x, y: flagBase.y - 50)
        if truncatesFlagColumn {
            frame.fillRectangle(x: Int(flagBase.x), y: Int(flagTop.y.rounded()), width: 1, height: 51, color: .black)
        } else {
            frame.drawLine(from: flagBase, to: flagTop, thickness: 1, color: .black)
        }
        frame.fillConvexPolygon([flagTop, (flagTop.x, flagTop.y + 10), (flagTop.x + 25, flagTop.y + 5)],
                                color: Color(204, 204, 0))

        let x = position, angle = cos(3 * x), clearance = 10.0
        let corners = [(-20.0, 0.0), (-20.0, 20.0), (20.0, 20.0), (20.0, 0.0)].map {
            point(atX: x, along: $0.0, up: $0.1, angle: angle, raised: clearance)
        }
        frame.fillConvexPolygon(corners, color: .black)
        for along in [10.0, -10.0] {
            let wheel = point(atX: x, along: along, angle: angle, raised: clearance)
            frame.fillDisc(centerX: wheel.x, centerY: wheel.y, radius: 8, color: Color(128, 128, 128))
        }
        return frame
    }

}

// Saving and restoring the whole state (a resumed run continues exactly).
extension MountainCar: Codable {}
extension MountainCar.State: Codable {}
extension MountainCar.EpisodePhase: Codable {}
