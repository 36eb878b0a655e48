import NeuralNet

/// A learning algorithm as the environment loop sees it.
///
/// The loop owns the environments; the agent owns its networks, buffers and optimisers
/// and decides when to learn. Each vector step the loop calls `act` with every copy's
/// observation, steps the environments, then hands the agent what happened through
/// `observe`. DQN stores the transitions and updates every few steps; PPO and A2C fill a
/// rollout and update when it is full; REINFORCE updates at episode ends. A new algorithm
/// is one type conforming to this protocol: the loop needs no change.
public protocol Agent: AnyObject {
    /// The name used in configs and checkpoints (`"ppo"`, `"dqn"`, ...).
    static var algorithm: String { get }

    /// Metric keys that `observe` may report (`"losses/value_loss"`, ...), in the order
    /// the metrics file lists them.
    static var metricKeys: [String] { get }

    /// The network's description, stored in checkpoints and checked on load
    /// (`"mlp 4-64-64-2 tanh"`).
    var networkDescription: String { get }

    /// Chooses the training action (exploring: sampled or ε-greedy) of each copy.
    /// - Parameters:
    ///   - observations: `count × observationSize` floats, copy after copy.
    ///   - actions: receives one action per copy.
    func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>)

    /// Takes the transitions of one vector step, learns when its schedule says so, and
    /// returns the metrics of any update it made (empty when it did not learn).
    func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double]

    /// The greedy action for one observation with the per-action scores behind it
    /// (probabilities for policy agents, Q-values for DQN), for evaluation and the viewer.
    func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice

    /// Everything needed to resume: weights and optimiser moments as named tensors
    /// (`"policy.0.weight"`, `"optimizer.m.0"`), counters and generator states as strings.
    func checkpoint() -> AgentCheckpoint

    /// Whether `checkpoint()` holds everything a resumed run needs to continue exactly as
    /// an uninterrupted one would (DQN without its replay buffer does not).
    var resumesExactly: Bool { get }

    /// Restores from `checkpoint()`, all or nothing: names and shapes are checked before
    /// anything changes. `weightsOnly` loads just the networks (evaluation, watching).
    func restore(from checkpoint: AgentCheckpoint, weightsOnly: Bool) throws(CheckpointError)
}

extension Agent {
    public var resumesExactly: Bool { true }
}

/// A greedy decision with the scores behind it.
public struct ActionChoice: Equatable, Sendable {
    public enum ScoreKind: String, Sendable, Codable { case probabilities, values }
    public var action: Int
    /// One score per action.
    public var scores: [Float]
    public var kind: ScoreKind

    public init(action: Int, scores: [Float], kind: ScoreKind) {
        self.action = action
        self.scores = scores
        self.kind = kind
    }
}

/// The transitions of one vector step, as views into the loop's buffers (valid only
/// during `observe`; copy what you keep).
public struct Transitions {
    /// The number of environment copies, N.
    public let count: Int
    /// Floats per observation.
    public let observationSize: Int
    /// The observations the actions were chosen from, N × observationSize.
    public let observations: UnsafeBufferPointer<Float>
    /// The actions taken, N.
    public let actions: UnsafeBufferPointer<Int>
    /// The rewards received, N.
    public let rewards: UnsafeBufferPointer<Float>
    /// The observations after the step, N × observationSize. For a copy whose episode
    /// ended, this is already the first observation of its next episode.
    public let nextObservations: UnsafeBufferPointer<Float>
    /// For a copy whose episode ended, its last observation (bootstrap a truncated
    /// episode from here); stale elsewhere.
    public let finalObservations: UnsafeBufferPointer<Float>
    /// The episode ended for the task: do not bootstrap.
    public let isTerminated: UnsafeBufferPointer<Bool>
    /// The episode hit its time limit: bootstrap from `finalObservations`.
    public let isTruncated: UnsafeBufferPointer<Bool>
    /// Environment steps taken so far, this step included (N per vector step).
    public let globalStep: Int

    /// The observation that follows copy `i`'s action within its own episode: the final
    /// observation when the episode ended, the next one otherwise.
    public func successor(ofCopy i: Int) -> UnsafeBufferPointer<Float> {
        let source = isTerminated[i] || isTruncated[i] ? finalObservations : nextObservations
        return UnsafeBufferPointer(rebasing: source[(i * observationSize)..<((i + 1) * observationSize)])
    }
}

/// Why training stopped with an error.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A loss or gradient was NaN or infinite.
    case nonFiniteLoss(name: String, step: Int)
    /// A configuration value out of range.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let name, let step):
            return "\(name) became NaN or infinite at step \(step); lower the learning rate or clip gradients, and resume from the last good checkpoint"
        case .invalidConfiguration(let message):
            return message
        }
    }
}
