import Environments
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

    /// The kinds of action space the algorithm learns in (checked before an agent is built).
    static var actionKinds: ActionKinds { get }

    /// Chooses the training action (exploring: sampled or ε-greedy) of each copy, in a
    /// discrete action space.
    /// - Parameters:
    ///   - observations: `count × observationSize` floats, copy after copy.
    ///   - actions: receives one action per copy.
    func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>)

    /// Chooses the training action of each copy in a continuous action space: `width`
    /// floats per copy, copy after copy, in the environment's units.
    func act(on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Float>)

    /// Takes the transitions of one vector step, learns when its schedule says so, and
    /// returns the metrics of any update it made (empty when it did not learn).
    func observe(_ transitions: Transitions) throws(TrainingError) -> [String: Double]

    /// The greedy action for one observation with the per-action scores behind it
    /// (probabilities for policy agents, Q-values for DQN), for evaluation and the viewer.
    /// An agent with memory reads this observation as the first of an episode.
    func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice

    /// A fresh memory for one episode, for an agent that remembers (a recurrent policy);
    /// nil (the default) for one that sees only the current observation. Whoever plays an
    /// episode keeps its own memory, so one agent serves many episodes at once.
    func makeMemory() -> AgentMemory?

    /// `choose(for:)` within an episode: reads `memory` (from `makeMemory()` at the
    /// episode's start) and updates it with `observation`. Agents without memory ignore it
    /// (the default).
    func choose(for observation: UnsafeBufferPointer<Float>, memory: inout AgentMemory?) -> ActionChoice

    /// The network behind `choose(for:)` as layers, for ONNX export and saliency; nil (the
    /// default) for an agent whose choice is not one feed-forward network (an agent with
    /// memory).
    var policyNetwork: PolicyNetwork? { get }

    /// An agent with memory's policy, for ONNX export; nil (the default) for others.
    var recurrentPolicyNetwork: RecurrentPolicyNetwork? { get }

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
    public func makeMemory() -> AgentMemory? { nil }
    public var policyNetwork: PolicyNetwork? { nil }
    public var recurrentPolicyNetwork: RecurrentPolicyNetwork? { nil }
    public func choose(for observation: UnsafeBufferPointer<Float>, memory: inout AgentMemory?) -> ActionChoice {
        choose(for: observation)
    }
    public static var actionKinds: ActionKinds { .discrete }

    public func act(
        on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Int>
    ) {
        preconditionFailure("\(Self.algorithm) does not act in discrete action spaces (the registry checks this)")
    }

    public func act(
        on observations: UnsafeBufferPointer<Float>, count: Int, into actions: UnsafeMutableBufferPointer<Float>
    ) {
        preconditionFailure("\(Self.algorithm) does not act in continuous action spaces (the registry checks this)")
    }
}

/// What an agent with memory carries from one step of an episode to the next: its
/// recurrent state, as floats.
public struct AgentMemory: Equatable, Sendable {
    /// The recurrent state (for an LSTM policy, h then c of each cell).
    public var state: [Float]

    public init(state: [Float]) { self.state = state }
}

/// The kinds of action space an algorithm handles.
public struct ActionKinds: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Numbered actions (`ActionSpace.discrete`).
    public static let discrete = ActionKinds(rawValue: 1)
    /// Vectors of floats (`ActionSpace.box`).
    public static let continuous = ActionKinds(rawValue: 2)

    /// Whether actions of `space` are among these kinds.
    public func admit(_ space: ActionSpace) -> Bool {
        contains(space.isContinuous ? .continuous : .discrete)
    }

    /// "discrete", "continuous" or "discrete and continuous".
    public var summary: String {
        [contains(.discrete) ? "discrete" : nil, contains(.continuous) ? "continuous" : nil]
            .compactMap { $0 }.joined(separator: " and ")
    }
}

/// A greedy decision with the scores behind it.
///
/// In a discrete space, `action` is the chosen action and `scores` hold one score per
/// action. In a continuous space, `values` is the action to take (in the environment's
/// units, within its bounds) and, for a stochastic policy, `spreads` the standard deviation
/// of each dimension around it (for a squashed policy, the spread the squashing gives near
/// the mean); `scores` are then empty.
public struct ActionChoice: Equatable, Sendable {
    public enum ScoreKind: String, Sendable, Codable {
        /// Action probabilities of a discrete policy.
        case probabilities
        /// Action values (Q) of a discrete value learner.
        case values
        /// A Gaussian policy's mean (`values`) and standard deviation (`spreads`).
        case gaussian
        /// A deterministic policy's action (`values`).
        case deterministic
    }
    public var action: Int
    /// One score per action (discrete).
    public var scores: [Float]
    public var kind: ScoreKind
    /// The continuous action, one float per dimension (empty in a discrete space).
    public var values: [Float]
    /// The policy's standard deviation per dimension (Gaussian policies only).
    public var spreads: [Float]

    public init(action: Int, scores: [Float], kind: ScoreKind) {
        self.action = action
        self.scores = scores
        self.kind = kind
        values = []
        spreads = []
    }

    /// A continuous choice: the action `values`, with `spreads` for a Gaussian policy.
    public init(continuous values: [Float], spreads: [Float] = []) {
        action = 0
        scores = []
        kind = spreads.isEmpty ? .deterministic : .gaussian
        self.values = values
        self.spreads = spreads
    }

    /// Whether the choice is a vector of floats.
    public var isContinuous: Bool { kind == .gaussian || kind == .deterministic }
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
    /// The actions taken, N (discrete spaces; empty for continuous ones).
    public let actions: UnsafeBufferPointer<Int>
    /// The continuous actions taken, N × `actionWidth` (empty for discrete spaces).
    public let continuousActions: UnsafeBufferPointer<Float>
    /// Floats per continuous action (0 for discrete spaces).
    public let actionWidth: Int
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

    public init(
        count: Int, observationSize: Int, observations: UnsafeBufferPointer<Float>,
        actions: UnsafeBufferPointer<Int>,
        continuousActions: UnsafeBufferPointer<Float> = UnsafeBufferPointer(start: nil, count: 0), actionWidth: Int = 0,
        rewards: UnsafeBufferPointer<Float>, nextObservations: UnsafeBufferPointer<Float>,
        finalObservations: UnsafeBufferPointer<Float>, isTerminated: UnsafeBufferPointer<Bool>,
        isTruncated: UnsafeBufferPointer<Bool>, globalStep: Int
    ) {
        self.count = count
        self.observationSize = observationSize
        self.observations = observations
        self.actions = actions
        self.continuousActions = continuousActions
        self.actionWidth = actionWidth
        self.rewards = rewards
        self.nextObservations = nextObservations
        self.finalObservations = finalObservations
        self.isTerminated = isTerminated
        self.isTruncated = isTruncated
        self.globalStep = globalStep
    }

    /// Copy `i`'s continuous action.
    public func continuousAction(ofCopy i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: continuousActions[(i * actionWidth)..<((i + 1) * actionWidth)])
    }

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
    /// An environment failed while stepping (a Gymnasium environment raised, or its worker
    /// died or stopped answering): the message says which and where.
    case environmentFailed(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let name, let step):
            return "\(name) became NaN or infinite at step \(step); lower the learning rate or clip gradients, and resume from the last good checkpoint"
        case .invalidConfiguration(let message), .environmentFailed(let message):
            return message
        }
    }
}
