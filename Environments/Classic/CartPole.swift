import Foundation
import SeededRandom

/// CartPole-v1: balance a pole hinged on a cart that moves along a frictionless track.
///
/// The dynamics reproduce Gymnasium's `CartPoleEnv` step for step: the same constants, the
/// same explicit Euler update (positions advance with the velocities from before the step),
/// the state kept in `Double` and observed as `Float`, so a trajectory from the same
/// initial state and actions matches Gymnasium's to the last bit on a platform whose `sin`
/// and `cos` agree with NumPy's (see `Tests/EnvironmentsTests/Reference`).
///
/// **Action space**: `Discrete(2)`. 0 pushes the cart left, 1 pushes it right, each with a
/// force of 10 N.
///
/// **Observation space**: 4 floats `[x, xDot, theta, thetaDot]`: the cart position (m),
/// its velocity (m/s), the pole angle from upright (rad, positive leaning right) and its
/// angular velocity (rad/s). Bounds as Gymnasium 1.x: x in ±4.8, theta in ±0.418879
/// (24°, twice the failure angle, so the terminating observation is still inside the box)
/// and the two velocities in ±infinity (Gymnasium 1.x uses `np.inf`; versions before 1.0
/// used the largest Float32, which admits the same finite values).
///
/// **Rewards**: +1 on every step, the terminating step included.
///
/// **Starting state**: each of the four state variables uniform in [-0.05, 0.05), drawn
/// from the environment's `SeededGenerator` in the order x, xDot, theta, thetaDot.
///
/// **Episode end**: terminated when |x| > 2.4 or |theta| > 12° (2π·12/360 rad). The
/// environment itself never truncates: CartPole-v1's 500-step limit is the `TimeLimit`
/// wrapper that the registry puts around it.
public struct CartPole: Environment, Sendable {
    /// The physical state, in SI units, kept in double precision as Gymnasium does.
    public struct State: Equatable, Sendable {
        /// Cart position (m); 0 is the middle of the track.
        public var x: Double
        /// Cart velocity (m/s).
        public var xDot: Double
        /// Pole angle from upright (rad), positive when the pole leans right.
        public var theta: Double
        /// Pole angular velocity (rad/s).
        public var thetaDot: Double

        @inlinable
        public init(x: Double, xDot: Double, theta: Double, thetaDot: Double) {
            self.x = x
            self.xDot = xDot
            self.theta = theta
            self.thetaDot = thetaDot
        }
    }

    // Gymnasium's constants, in Gymnasium's order of evaluation where it matters.
    public static let gravity = 9.8
    public static let cartMass = 1.0
    public static let poleMass = 0.1
    public static let totalMass = poleMass + cartMass
    /// Half the pole's length (m): the distance from the hinge to the pole's centre of mass.
    public static let halfPoleLength = 0.5
    public static let poleMassLength = poleMass * halfPoleLength
    /// The force of one push (N).
    public static let forceMagnitude = 10.0
    /// Seconds per step.
    public static let tau = 0.02
    /// The cart may not leave `-xThreshold...xThreshold` (m).
    public static let xThreshold = 2.4
    /// The pole may not lean further than this (rad): 12 degrees.
    public static let thetaThreshold = 12 * 2 * Double.pi / 360

    /// The current physical state. Set it after `reset` (or use `reset(to:into:)`) to
    /// start from an exact state.
    public var state: State
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    /// Where the episode stands; stepping is allowed only while `.running`.
    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running, ended }

    /// A cart-pole whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0) {
        generator = SeededGenerator(seed: seed)
        state = State(x: 0, xDot: 0, theta: 0, thetaDot: 0)
    }

    public var observationSpace: Box {
        let high: [Float] = [
            Float(2 * Self.xThreshold), .infinity, Float(2 * Self.thetaThreshold), .infinity,
        ]
        return Box(low: high.map { -$0 }, high: high, shape: [4])
    }

    public var actionSpace: ActionSpace { .discrete(Discrete(2)) }

    public var actionNames: [String] { ["left", "right"] }
    public var observationNames: [String] { ["x", "x velocity", "θ", "θ velocity"] }

    /// Whether the current episode has terminated (the pole fell or the cart left the track).
    public var isTerminated: Bool { phase == .ended }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        let x = generator.uniform(-0.05, 0.05)
        let xDot = generator.uniform(-0.05, 0.05)
        let theta = generator.uniform(-0.05, 0.05)
        let thetaDot = generator.uniform(-0.05, 0.05)
        reset(to: State(x: x, xDot: xDot, theta: theta, thetaDot: thetaDot), into: observation)
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
        guard UInt(bitPattern: action) < 2 else { throw .invalidAction(action, count: 2) }

        let force = action == 1 ? Self.forceMagnitude : -Self.forceMagnitude
        let s = state
        let cosTheta = cos(s.theta)
        let sinTheta = sin(s.theta)
        // Parenthesised exactly as Gymnasium evaluates it, so rounding matches.
        let temp = (force + Self.poleMassLength * (s.thetaDot * s.thetaDot) * sinTheta) / Self.totalMass
        let thetaAcc = (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.halfPoleLength * (4.0 / 3.0 - Self.poleMass * (cosTheta * cosTheta) / Self.totalMass))
        let xAcc = temp - Self.poleMassLength * thetaAcc * cosTheta / Self.totalMass

        // Explicit Euler: positions move with the old velocities.
        state = State(
            x: s.x + Self.tau * s.xDot,
            xDot: s.xDot + Self.tau * xAcc,
            theta: s.theta + Self.tau * s.thetaDot,
            thetaDot: s.thetaDot + Self.tau * thetaAcc)

        let x = state.x, theta = state.theta
        let isTerminated = x < -Self.xThreshold || x > Self.xThreshold
            || theta < -Self.thetaThreshold || theta > Self.thetaThreshold
        if isTerminated { phase = .ended }
        write(into: observation)
        return StepOutcome(reward: 1, isTerminated: isTerminated)
    }

    /// Writes `[x, xDot, theta, thetaDot]` as floats.
    @inlinable
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 4, "CartPole writes 4 floats, the buffer holds \(observation.count)")
        observation[0] = Float(state.x)
        observation[1] = Float(state.xDot)
        observation[2] = Float(state.theta)
        observation[3] = Float(state.thetaDot)
    }

    /// The size of `render()`'s frame, as Gymnasium's.
    public static let frameWidth = 600, frameHeight = 400

    /// A 600×400 picture in Gymnasium's colours: a black 50×30 cart on a grey track, a tan
    /// pole (1 m = 100 px long) with a blue hinge, and red ticks where the cart leaves the
    /// track (|x| = 2.4). The track spans columns 60...540; the cart's centre is at column
    /// 300 + 100·x, row 300.
    public func render() -> Frame {
        var frame = Frame(width: Self.frameWidth, height: Self.frameHeight, fill: .white)
        let scale = 100.0  // pixels per metre: the track's ends (x = ±2.4) fall at columns 60 and 540
        let trackRow = 300.0
        let trackColor = Color(110, 110, 110)
        frame.fillRectangle(x: 0, y: Int(trackRow), width: Self.frameWidth, height: 2, color: trackColor)
        for side in [-1.0, 1.0] {
            let column = Int((Double(Self.frameWidth) / 2 + side * Self.xThreshold * scale).rounded())
            frame.fillRectangle(x: column - 1, y: Int(trackRow) - 12, width: 3, height: 26, color: Color(200, 40, 40))
        }

        let cartX = Double(Self.frameWidth) / 2 + state.x * scale
        let cartWidth = 50.0, cartHeight = 30.0
        frame.fillRectangle(
            x: Int((cartX - cartWidth / 2).rounded()), y: Int(trackRow - cartHeight / 2),
            width: Int(cartWidth), height: Int(cartHeight), color: .black)

        let hingeY = trackRow - cartHeight / 4
        let poleLength = scale * 2 * Self.halfPoleLength
        let tip = (x: cartX + poleLength * sin(state.theta), y: hingeY - poleLength * cos(state.theta))
        frame.drawLine(from: (cartX, hingeY), to: tip, thickness: 10, color: Color(202, 152, 101))
        frame.fillDisc(centerX: cartX, centerY: hingeY, radius: 5, color: Color(129, 132, 203))
        return frame
    }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension CartPole: Codable {}
extension CartPole.State: Codable {}
extension CartPole.EpisodePhase: Codable {}
