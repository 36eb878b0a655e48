import Foundation
import SeededRandom

/// Pendulum-v1: swing a pendulum up from a random position and keep it upright with a
/// motor at its pivot too weak to lift it in one go.
///
/// The dynamics reproduce Gymnasium's `PendulumEnv` step for step: one explicit Euler step
/// of dt = 0.05 s, the velocity updated first and clipped, the angle moved with the new
/// velocity, all in `Double` with Gymnasium's order of operations, observed as `Float` (see
/// `Tests/EnvironmentsTests/Reference`). Gymnasium passes the torque as a `float32` array,
/// and NumPy 2 keeps the operations that involve it in single precision (the torque's
/// square and its term in the acceleration); the step does the same, so its states match
/// Gymnasium's to the bit.
///
/// **Action space**: `Box(-2, 2, shape: [1])`: the torque at the pivot (N·m), positive
/// counterclockwise. Values beyond ±2 are clipped, as Gymnasium does; a NaN or infinite
/// torque is refused.
///
/// **Observation space**: 3 floats `[cos θ, sin θ, θ̇]`: θ is the angle from upright
/// (rad, counterclockwise), θ̇ the angular velocity in [-8, 8] rad/s.
///
/// **Rewards**: -(θ² + 0.1 θ̇² + 0.001 u²) with θ normalised into [-π, π] and u the
/// clipped torque: between about -16.27 (hanging down, spinning fast, full torque) and 0
/// (upright, at rest, no torque).
///
/// **Starting state**: θ uniform in [-π, π) and θ̇ uniform in [-1, 1), drawn from the
/// environment's `SeededGenerator` in that order.
///
/// **Episode end**: never terminates. Pendulum-v1's 200-step limit is the `TimeLimit`
/// wrapper that the registry puts around it.
public struct Pendulum: Environment, Sendable {
    /// The physical state, in double precision as Gymnasium keeps it.
    public struct State: Equatable, Sendable {
        /// The angle from upright (rad, counterclockwise); not wrapped, it grows as the
        /// pendulum spins round.
        public var theta: Double
        /// The angular velocity (rad/s), in ±`maxSpeed`.
        public var thetaDot: Double

        @inlinable
        public init(theta: Double, thetaDot: Double) {
            self.theta = theta
            self.thetaDot = thetaDot
        }
    }

    // Gymnasium's constants.
    /// The speed limit (rad/s), applied after every step.
    public static let maxSpeed = 8.0
    /// The largest torque (N·m); actions are clipped to ±`maxTorque`.
    public static let maxTorque: Float = 2
    /// Seconds per step (one Euler step).
    public static let dt = 0.05
    /// The pendulum's mass (kg) and length (m).
    public static let mass = 1.0, length = 1.0

    /// The acceleration of gravity (m/s²); Gymnasium's `g` argument, 10 by default.
    public let gravity: Double
    /// The current physical state. Set it after `reset` (or use `reset(to:into:)`) to
    /// start from an exact state.
    public var state: State
    /// The torque of the last step after clipping (drawn by `render()`); nil after a reset.
    public var lastTorque: Float? { lastClippedTorque }
    @usableFromInline var lastClippedTorque: Float?
    @usableFromInline var generator: SeededGenerator
    @usableFromInline var phase: EpisodePhase = .notStarted

    /// Where the episode stands; stepping is allowed only after a reset.
    @usableFromInline
    enum EpisodePhase: Sendable { case notStarted, running }

    /// A pendulum whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0, gravity: Double = 10.0) {
        precondition(gravity.isFinite, "gravity must be finite, got \(gravity)")
        self.gravity = gravity
        generator = SeededGenerator(seed: seed)
        state = State(theta: Double.pi, thetaDot: 0)
    }

    public var observationSpace: Box {
        Box(low: [-1, -1, Float(-Self.maxSpeed)], high: [1, 1, Float(Self.maxSpeed)], shape: [3])
    }

    /// The torques `step` takes: one float in ±`maxTorque` (beyond it, clipped).
    public static let torqueSpace = Box(low: -maxTorque, high: maxTorque, shape: [1])

    public var actionSpace: ActionSpace { .box(Self.torqueSpace) }

    public var actionNames: [String] { ["torque"] }
    public var observationNames: [String] { ["cos θ", "sin θ", "θ velocity"] }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { generator = SeededGenerator(seed: seed) }
        let theta = generator.uniform(-Double.pi, Double.pi)
        let thetaDot = generator.uniform(-1, 1)
        reset(to: State(theta: theta, thetaDot: thetaDot), into: observation)
    }

    /// Starts an episode from exactly `state` (for tests and reference traces) and writes
    /// its observation. The generator is left as it was.
    @inlinable
    public mutating func reset(to state: State, into observation: UnsafeMutableBufferPointer<Float>) {
        self.state = state
        lastClippedTorque = nil
        phase = .running
        write(into: observation)
    }

    @inlinable
    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard phase == .running else { throw .notReset }
        try Self.torqueSpace.check(action: action)

        // Gymnasium: u = clip(u, -2, 2)[0], a float32.
        let u = min(max(action[0], -Self.maxTorque), Self.maxTorque)
        lastClippedTorque = u
        let theta = state.theta, thetaDot = state.thetaDot

        // The cost of the state before the step. θ² and 0.1 θ̇² in double precision; the
        // torque's term in single precision (NumPy 2 squares the float32 `u` as a float32
        // and multiplies it by 0.001 rounded to float32). NumPy's `** 2` calls the C
        // library's pow/powf, which rounds about one square in a thousand to the neighbouring
        // double (float); the products here are correctly rounded. The difference is far
        // below a `Float` reward's precision.
        let angle = Self.normalize(theta)
        let costs = angle * angle + 0.1 * (thetaDot * thetaDot) + Double(Float(0.001) * (u * u))

        // newthdot = thdot + (3g/(2l) · sin θ + 3/(m l²) · u) · dt, the second term a float32.
        let g = gravity, m = Self.mass, l = Self.length
        let torqueTerm = Float(3.0 / (m * (l * l))) * u
        var newThetaDot = thetaDot + (3 * g / (2 * l) * sin(theta) + Double(torqueTerm)) * Self.dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        let newTheta = theta + newThetaDot * Self.dt
        state = State(theta: newTheta, thetaDot: newThetaDot)

        write(into: observation)
        return StepOutcome(reward: Float(-costs))
    }

    /// Brings an angle into [-π, π] (Gymnasium's `angle_normalize`: ((θ + π) mod 2π) - π,
    /// with the modulo taking the divisor's sign, as NumPy's and Python's do).
    @inlinable
    public static func normalize(_ angle: Double) -> Double {
        let turn = 2 * Double.pi
        var remainder = (angle + Double.pi).truncatingRemainder(dividingBy: turn)  // C's fmod
        if remainder != 0 {
            if remainder < 0 { remainder += turn }
        } else {
            remainder = 0  // +0, the divisor's sign
        }
        return remainder - Double.pi
    }

    /// Writes `[cos θ, sin θ, θ̇]` as floats.
    @inlinable
    public func write(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 3, "Pendulum writes 3 floats, the buffer holds \(observation.count)")
        observation[0] = Float(cos(state.theta))
        observation[1] = Float(sin(state.theta))
        observation[2] = Float(state.thetaDot)
    }

    /// The size of `render()`'s frame, as Gymnasium's.
    public static let frameWidth = 500, frameHeight = 500

    /// A 500×500 picture in Gymnasium's colours: the pivot at the centre (250, 250), the
    /// red rod (1 m = 500 / 4.4 px, about 114 px long and 23 px thick, rounded ends) pointing
    /// up at θ = 0 and turning counterclockwise as θ grows, a black axle of radius 5, and
    /// after a step the last torque as a dark grey arc round the pivot (radius 28 px per
    /// N·m) ending in an arrowhead that points the way the torque turns.
    public func render() -> Frame {
        var frame = Frame(width: Self.frameWidth, height: Self.frameHeight, fill: .white)
        let scale = Double(Self.frameWidth) / 4.4
        let centre = (x: Double(Self.frameWidth) / 2, y: Double(Self.frameHeight) / 2)
        // θ from upright, counterclockwise; rows grow downwards.
        let end = (x: centre.x - Self.length * scale * sin(state.theta),
                   y: centre.y - Self.length * scale * cos(state.theta))
        frame.drawLine(from: centre, to: end, thickness: 0.2 * scale, color: Color(204, 77, 77))

        if let torque = lastTorque, torque != 0 {
            let radius = scale * Double(abs(torque)) / 4
            let direction = torque > 0 ? 1.0 : -1.0  // counterclockwise on screen for positive
            // A three-quarter arc starting below the pivot, drawn in screen angles.
            func point(_ angle: Double) -> (x: Double, y: Double) {
                (centre.x + radius * cos(angle), centre.y - radius * sin(angle))
            }
            let start = -Double.pi / 2, sweep = 1.5 * Double.pi * direction
            let segments = 48
            var previous = point(start)
            for i in 1...segments {
                let next = point(start + sweep * Double(i) / Double(segments))
                frame.drawLine(from: previous, to: next, thickness: 3, color: Color(64, 64, 64))
                previous = next
            }
            // The arrowhead at the arc's end, along the tangent.
            let tip = start + sweep
            let tangent = (x: -sin(tip) * direction, y: -cos(tip) * direction)  // screen coordinates
            let normal = (x: cos(tip), y: -sin(tip))
            let size = max(4, radius * 0.35)
            let head = [
                (x: previous.x + tangent.x * size, y: previous.y + tangent.y * size),
                (x: previous.x + normal.x * size * 0.6, y: previous.y + normal.y * size * 0.6),
                (x: previous.x - normal.x * size * 0.6, y: previous.y - normal.y * size * 0.6),
            ]
            frame.fillConvexPolygon(head, color: Color(64, 64, 64))
        }
        frame.fillDisc(centerX: centre.x, centerY: centre.y, radius: (0.05 * scale).rounded(.down), color: .black)
        return frame
    }

}

// Saving and restoring the whole state (a resumed run continues exactly).
extension Pendulum: Codable {}
extension Pendulum.State: Codable {}
extension Pendulum.EpisodePhase: Codable {}
