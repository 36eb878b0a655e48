import Foundation
import SeededRandom

/// Acrobot-v1: swing a two-link pendulum, actuated only at the joint between the links,
/// until its tip rises one link length above the fixed pivot.
///
/// The dynamics reproduce Gymnasium's `AcrobotEnv` step for step: the equations of motion
/// of Sutton & Barto's book (not the NIPS paper's variant), one fourth-order Runge-Kutta
/// step over dt = 0.2 s with the torque held constant, the angles wrapped into [-π, π] and
/// the velocities clamped afterwards, all in `Double` with Gymnasium's order of operations,
/// observed as `Float` (see `Tests/EnvironmentsTests/Reference`).
///
/// **Action space**: `Discrete(3)`. 0 applies a torque of -1 N·m at the joint, 1 applies
/// none, 2 applies +1 N·m.
///
/// **Observation space**: 6 floats `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]`. θ1 is the
/// first link's angle from hanging straight down, θ2 the second link's angle relative to
/// the first (rad). The cosines and sines lie in [-1, 1], θ̇1 in ±4π and θ̇2 in ±9π rad/s.
///
/// **Rewards**: -1 on every step that does not reach the goal, 0 on the step that does.
///
/// **Starting state**: θ1, θ2, θ̇1, θ̇2 each uniform in [-0.1, 0.1), drawn from the
/// environment's `SeededGenerator` in that order and rounded to `Float`, since Gymnasium
/// keeps the starting state in single precision.
///
/// **Episode end**: terminated when the tip is more than one link length above the pivot,
/// -cos θ1 - cos(θ1 + θ2) > 1. The environment itself never truncates: Acrobot-v1's
/// 500-step limit is the `TimeLimit` wrapper that the registry puts around it.
public struct Acrobot: Environment, Sendable {
    /// The physical state: two angles (rad) and their velocities (rad/s), in double precision.
    public struct State: Equatable, Sendable {
        /// The first link's angle from hanging straight down, in [-π, π].
        public var theta1: Double
        /// The second link's angle relative to the first, in [-π, π].
        public var theta2: Double
        /// The first link's angular velocity, in ±`maxVelocity1`.
        public var theta1Dot: Double
        /// The second link's angular velocity relative to the first, in ±`maxVelocity2`.
        public var theta2Dot: Double

        @inlinable
        public init(theta1: Double, theta2: Double, theta1Dot: Double, theta2Dot: Double) {
            self.theta1 = theta1
            self.theta2 = theta2
            self.theta1Dot = theta1Dot
            self.theta2Dot = theta2Dot
        }
    }

    // Gymnasium's constants. Both links are alike; the names say which one a formula means.
    /// Seconds per step (one Runge-Kutta step).
    public static let dt = 0.2
    /// Link lengths (m).
    public static let linkLength1 = 1.0, linkLength2 = 1.0
    /// Link masses (kg).
    public static let linkMass1 = 1.0, linkMass2 = 1.0
    /// Distance from each link's pivot to its centre of mass (m).
    public static let linkCenterOfMass1 = 0.5, linkCenterOfMass2 = 0.5
    /// Each link's moment of inertia (kg·m²).
    public static let linkMomentOfInertia = 1.0
    public static let gravity = 9.8
    /// The velocity bounds (rad/s), applied after every step.
    public static let maxVelocity1 = 4 * Double.pi, maxVelocity2 = 9 * Double.pi
    /// The joint torque (N·m) of each action.
    public static let torques: [Double] = [-1, 0, 1]

    /// The current physical state. Set it after `reset` (or use `reset(to:into:)`) to
    /// start from an exact state.
    public var state: State
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    /// Where the episode stands; stepping is allowed only while `.running`.
    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// An acrobot whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0) {
        generator = SeededGenerator(seed: seed)
        state = State(theta1: 0, theta2: 0, theta1Dot: 0, theta2Dot: 0)
    }

    public var observationSpace: Box {
        let high: [Float] = [1, 1, 1, 1, Float(Self.maxVelocity1), Float(Self.maxVelocity2)]
        return Box(low: high.map { -$0 }, high: high, shape: [6])
    }

    public var actionSpace: ActionSpace { .discrete(Discrete(3)) }

    /// Named for the keyboard: the arrows turn the joint, no key applies no torque.
    public var actionNames: [String] { ["left", "no-op", "right"] }
    public var observationNames: [String] { ["cos θ1", "sin θ1", "cos θ2", "sin θ2", "θ1 velocity", "θ2 velocity"] }

    /// Whether the current episode has terminated (the tip rose above the line).
    public var isTerminated: Bool { phase == .ended }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        // Rounded to single precision, as Gymnasium stores its starting state.
        let draws = (0..<4).map { _ in Double(Float(generator.uniform(-0.1, 0.1))) }
        reset(to: State(theta1: draws[0], theta2: draws[1], theta1Dot: draws[2], theta2Dot: draws[3]),
              into: observation)
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

        let next = Self.rungeKuttaStep(from: state, torque: Self.torques[action])
        state = State(
            theta1: Self.wrap(next.theta1),
            theta2: Self.wrap(next.theta2),
            theta1Dot: min(max(next.theta1Dot, -Self.maxVelocity1), Self.maxVelocity1),
            theta2Dot: min(max(next.theta2Dot, -Self.maxVelocity2), Self.maxVelocity2))

        let isTerminated = Self.tipIsAboveTheLine(state)
        if isTerminated { phase = .ended }
        write(into: observation)
        return StepOutcome(reward: isTerminated ? 0 : -1, isTerminated: isTerminated)
    }

    /// Whether the tip is more than one link length above the pivot (the goal).
    @inlinable
    public static func tipIsAboveTheLine(_ s: State) -> Bool {
        -cos(s.theta1) - cos(s.theta2 + s.theta1) > 1.0
    }

    /// Brings an angle into [-π, π] by whole turns (Gymnasium's `wrap`).
    @inlinable
    static func wrap(_ angle: Double) -> Double {
        var x = angle
        let turn = Double.pi - -Double.pi
        while x > Double.pi { x = x - turn }
        while x < -Double.pi { x = x + turn }
        return x
    }

    /// One classical fourth-order Runge-Kutta step of `dt`, with the torque constant over
    /// it. Each combination is evaluated in Gymnasium's order, so the rounding matches.
    @inlinable
    static func rungeKuttaStep(from y: State, torque: Double) -> State {
        let half = dt / 2.0
        func shifted(_ k: State, by h: Double) -> State {
            State(theta1: y.theta1 + h * k.theta1, theta2: y.theta2 + h * k.theta2,
                  theta1Dot: y.theta1Dot + h * k.theta1Dot, theta2Dot: y.theta2Dot + h * k.theta2Dot)
        }
        let k1 = derivatives(y, torque: torque)
        let k2 = derivatives(shifted(k1, by: half), torque: torque)
        let k3 = derivatives(shifted(k2, by: half), torque: torque)
        let k4 = derivatives(shifted(k3, by: dt), torque: torque)
        let sixth = dt / 6.0
        func combined(_ y: Double, _ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Double {
            y + sixth * (a + 2 * b + 2 * c + d)
        }
        return State(
            theta1: combined(y.theta1, k1.theta1, k2.theta1, k3.theta1, k4.theta1),
            theta2: combined(y.theta2, k1.theta2, k2.theta2, k3.theta2, k4.theta2),
            theta1Dot: combined(y.theta1Dot, k1.theta1Dot, k2.theta1Dot, k3.theta1Dot, k4.theta1Dot),
            theta2Dot: combined(y.theta2Dot, k1.theta2Dot, k2.theta2Dot, k3.theta2Dot, k4.theta2Dot))
    }

    /// The time derivative of the state under `torque` at the joint (the book's equations):
    /// the returned `State` holds (θ̇1, θ̇2, θ̈1, θ̈2).
    @inlinable
    static func derivatives(_ s: State, torque a: Double) -> State {
        let m1 = linkMass1, m2 = linkMass2, l1 = linkLength1
        let lc1 = linkCenterOfMass1, lc2 = linkCenterOfMass2
        let i1 = linkMomentOfInertia, i2 = linkMomentOfInertia, g = gravity
        let theta1 = s.theta1, theta2 = s.theta2, dtheta1 = s.theta1Dot, dtheta2 = s.theta2Dot
        let cosTheta2 = cos(theta2), sinTheta2 = sin(theta2)

        // The inertia terms d1, d2 and the gravity/Coriolis terms phi1, phi2, parenthesised
        // as Gymnasium evaluates them.
        let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cosTheta2) + i1 + i2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cosTheta2) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sinTheta2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2)
            + phi2
        let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sinTheta2 - phi2)
            / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return State(theta1: dtheta1, theta2: dtheta2, theta1Dot: ddtheta1, theta2Dot: ddtheta2)
    }

    /// Writes `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]` as floats.
    @inlinable
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 6, "Acrobot writes 6 floats, the buffer holds \(observation.count)")
        observation[0] = Float(cos(state.theta1))
        observation[1] = Float(sin(state.theta1))
        observation[2] = Float(cos(state.theta2))
        observation[3] = Float(sin(state.theta2))
        observation[4] = Float(state.theta1Dot)
        observation[5] = Float(state.theta2Dot)
    }

    /// The size of `render()`'s frame, as Gymnasium's.
    public static let frameWidth = 500, frameHeight = 500

    /// A 500×500 picture in Gymnasium's colours: the pivot at the centre (250, 250), two
    /// teal links (1 m = 500 / 4.4 px, about 114 px long, 23 px thick) hanging down at
    /// θ1 = θ2 = 0, yellow discs at the three joints, and a black line one link length above
    /// the pivot (row 250 - 113.6) that the tip must cross.
    public func render() -> Frame {
        var frame = Frame(width: Self.frameWidth, height: Self.frameHeight, fill: .white)
        let reach = Self.linkLength1 + Self.linkLength2 + 0.2  // metres from the centre to each edge
        let scale = Double(Self.frameWidth) / (2 * reach)
        let centre = (x: Double(Self.frameWidth) / 2, y: Double(Self.frameHeight) / 2)

        let goalRow = Int((centre.y - Self.linkLength1 * scale).rounded())
        let goalStart = Int((centre.x - reach * scale).rounded())
        frame.fillRectangle(x: goalStart, y: goalRow, width: Int((2 * reach * scale).rounded()), height: 1,
                            color: .black)

        // Angles are measured from straight down; rows grow downwards.
        let elbow = (x: centre.x + Self.linkLength1 * scale * sin(state.theta1),
                     y: centre.y + Self.linkLength1 * scale * cos(state.theta1))
        let absolute2 = state.theta1 + state.theta2
        let tip = (x: elbow.x + Self.linkLength2 * scale * sin(absolute2),
                   y: elbow.y + Self.linkLength2 * scale * cos(absolute2))
        let linkColor = Color(0, 204, 204), jointColor = Color(204, 204, 0)
        frame.drawLine(from: centre, to: elbow, thickness: 0.2 * scale, color: linkColor)
        frame.drawLine(from: elbow, to: tip, thickness: 0.2 * scale, color: linkColor)
        for joint in [centre, elbow, tip] {
            frame.fillDisc(centerX: joint.x, centerY: joint.y, radius: 0.1 * scale, color: jointColor)
        }
        return frame
    }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension Acrobot: Codable {}
extension Acrobot.State: Codable {}
extension Acrobot.EpisodePhase: Codable {}
