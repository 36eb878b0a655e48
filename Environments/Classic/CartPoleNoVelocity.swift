/// CartPole-NoVelocity-v1: CartPole-v1 seen without its velocities, a partially observable
/// task for policies with memory.
///
/// The environment is a `CartPole` underneath: the same dynamics, rewards, termination and
/// seeded starts, step for step, so the same seed and actions give the same episode as
/// CartPole-v1, of which the agent sees two of the four numbers. A policy without memory
/// cannot tell which way the pole is swinging; one that remembers the last few
/// observations can (rl-baselines3-zoo benchmarks recurrent PPO on this task as
/// `CartPoleNoVel-v1`; its wrapper multiplies the two velocities by zero and keeps four
/// floats, here they are left out, which tells a policy exactly as much).
///
/// **Action space**: `Discrete(2)`. 0 pushes the cart left, 1 pushes it right, each with a
/// force of 10 N (CartPole's).
///
/// **Observation space**: 2 floats `[x, theta]`: CartPole's observation elements 0 and 2,
/// the cart position (m) and the pole angle from upright (rad, positive leaning right),
/// bit for bit. Bounds as CartPole's: x in ±4.8, theta in ±0.418879.
///
/// **Rewards**: +1 on every step, the terminating step included.
///
/// **Starting state**: CartPole's: each of the four state variables uniform in
/// [-0.05, 0.05), drawn from the `SeededGenerator` of the cart-pole underneath.
///
/// **Episode end**: terminated when |x| > 2.4 or |theta| > 12°. The environment itself
/// never truncates: the 500-step limit is the `TimeLimit` wrapper that the registry puts
/// around it, as for CartPole-v1.
///
/// `render()` draws the cart-pole underneath, velocities and all: the frame is CartPole's.
public struct CartPoleNoVelocity: Environment, Sendable {
    /// The cart-pole underneath, which keeps the whole state (the velocities included) and
    /// the generator. Set its `state` after `reset` to start from an exact state.
    public var cartPole: CartPole

    /// A cart-pole whose resets without a seed draw from a generator seeded with `seed`.
    public init(seed: UInt64 = 0) {
        cartPole = CartPole(seed: seed)
    }

    /// Shows `cartPole` without its velocities.
    public init(_ cartPole: CartPole) {
        self.cartPole = cartPole
    }

    public var observationSpace: Box {
        let high: [Float] = [Float(2 * CartPole.xThreshold), Float(2 * CartPole.thetaThreshold)]
        return Box(low: high.map { -$0 }, high: high, shape: [2])
    }

    public var actionSpace: ActionSpace { cartPole.actionSpace }

    public var actionNames: [String] { cartPole.actionNames }
    public var observationNames: [String] { ["x", "θ"] }

    /// Whether the current episode has terminated (the pole fell or the cart left the track).
    public var isTerminated: Bool { cartPole.isTerminated }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        observingPositions(into: observation) { cartPole, full in cartPole.reset(seed: seed, into: full) }
    }

    /// Starts an episode from exactly `state` (for tests and reference traces) and writes
    /// its observation. The generator is left as it was.
    @inlinable
    public mutating func reset(to state: CartPole.State, into observation: UnsafeMutableBufferPointer<Float>) {
        observingPositions(into: observation) { cartPole, full in cartPole.reset(to: state, into: full) }
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try observingPositions(into: observation) {
            (cartPole, full) throws(EnvironmentError) -> StepOutcome in
            try cartPole.step(action, into: full)
        }
    }

    /// Runs `body` on the cart-pole with a scratch buffer for its full observation
    /// `[x, xDot, theta, thetaDot]`, then writes elements 0 and 2 into `observation`.
    /// When `body` throws, `observation` is left as it was.
    @inlinable @inline(__always)
    mutating func observingPositions<R, E: Error>(
        into observation: UnsafeMutableBufferPointer<Float>,
        _ body: (inout CartPole, UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        precondition(observation.count == 2, "CartPoleNoVelocity writes 2 floats, the buffer holds \(observation.count)")
        return try withUnsafeTemporaryAllocation(of: Float.self, capacity: 4) {
            (full) throws(E) -> R in
            let result = try body(&cartPole, full)
            observation[0] = full[0]
            observation[1] = full[2]
            return result
        }
    }

    /// CartPole's 600×400 picture of the cart-pole underneath.
    public func render() -> Frame { cartPole.render() }
}

// Saving and restoring the whole state (a resumed run continues exactly).
extension CartPoleNoVelocity: Codable {}
