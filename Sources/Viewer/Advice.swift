import Environments
import SeededRandom

/// What an advisor says at one step: the action it chose and, where it has them, a score
/// per action for the viewer's panel.
///
/// - `.probabilities`: a policy's action distribution (REINFORCE, actor-critic, PPO);
///   `scores` has one probability per action, summing to about 1. Bars are `p` long.
/// - `.values`: a value-based agent's Q-values (DQN); `scores` has one value per action.
///   Bars are `|q| / max|q|` long; negative values are drawn in another colour.
/// - `.choice`: a choice without scores (a person at the keyboard); `scores` is empty.
/// - `.gaussian`: a continuous action from a Gaussian policy: `values` holds the action
///   (its mean) per dimension, `spreads` the standard deviations; bars show where each value
///   lies between the space's bounds.
/// - `.continuous`: a continuous action without a spread (a deterministic policy, a
///   random player); `spreads` is empty.
public struct Advice: Equatable, Sendable {
    /// How to read `scores`, `values` and `spreads`.
    public enum Kind: String, Equatable, Sendable {
        case probabilities, values, choice, gaussian, continuous
    }

    /// The action to take, in `0..<count` of a discrete space (0 for a continuous action).
    public var action: Int
    /// One score per action (empty for `.choice` and continuous actions).
    public var scores: [Float]
    public var kind: Kind
    /// The continuous action, one float per dimension (empty for a discrete action).
    public var values: [Float] = []
    /// The standard deviation of each dimension (`.gaussian` only).
    public var spreads: [Float] = []

    public init(action: Int, scores: [Float], kind: Kind) {
        self.action = action
        self.scores = scores
        self.kind = kind
    }

    /// A continuous action, with the policy's spread per dimension when it has one.
    public init(continuous values: [Float], spreads: [Float] = []) {
        self.init(action: 0, scores: [], kind: spreads.isEmpty ? .continuous : .gaussian)
        self.values = values
        self.spreads = spreads
    }

    /// Whether the action is a vector of floats.
    public var isContinuous: Bool { kind == .gaussian || kind == .continuous }

    /// A bare choice with no scores.
    public static func choice(_ action: Int) -> Advice {
        Advice(action: action, scores: [], kind: .choice)
    }
}

/// Something that picks actions for the viewer and the recorder: a trained agent, a
/// random player, a person at the keyboard.
///
/// This is the seam between the viewer and the agents: the viewer never imports Agents;
/// the command line wraps an agent in a type conforming to `ActionAdvisor` (greedy action
/// plus its probabilities or Q-values) and hands it to `watchEpisodes` or
/// `recordEpisodes`. The viewer calls `advise` once per environment step, on the main
/// thread, with the observation the environment just wrote (`observationSpace.count`
/// floats).
public protocol ActionAdvisor {
    /// The action for `observation`, with its scores when the advisor has them.
    mutating func advise(_ observation: [Float]) -> Advice

    /// Called after every reset, before the episode's first `advise` (for advisors that
    /// keep per-episode state). The default does nothing.
    mutating func episodeDidStart()

    /// How strongly each float of `observation` drives the score of the action the advisor
    /// would choose for it (≥ 0, one per float), or nil when the advisor cannot say (the
    /// default: a person, a random player, an agent with memory).
    func saliency(of observation: [Float]) -> [Float]?
}

extension ActionAdvisor {
    public mutating func episodeDidStart() {}
    public func saliency(of observation: [Float]) -> [Float]? { nil }
}

/// Plays uniformly random actions from its own seeded generator and reports the uniform
/// distribution as its probabilities: the default player of `agentlab record` until
/// trained runs can be loaded, and a baseline to compare agents with.
public struct RandomAdvisor: ActionAdvisor, Sendable {
    public let actionSpace: ActionSpace
    private var generator: SeededGenerator

    /// - Parameters:
    ///   - actionSpace: the environment's action space; continuous actions are drawn with
    ///     `Box.sample(using:)`.
    ///   - seed: seeds the generator (stream 1, so it differs from an environment seeded
    ///     with the same number, as in `agentlab rollout`).
    public init(actionSpace: ActionSpace, seed: UInt64) {
        self.actionSpace = actionSpace
        generator = SeededGenerator(seed: seed, stream: 1)
    }

    /// A random player of `actionCount` discrete actions.
    public init(actionCount: Int, seed: UInt64) {
        precondition(actionCount > 0, "a random advisor needs at least one action")
        self.init(actionSpace: .discrete(Discrete(actionCount)), seed: seed)
    }

    public mutating func advise(_ observation: [Float]) -> Advice {
        switch actionSpace {
        case .discrete(let space):
            let count = space.count
            return Advice(action: generator.int(below: count), scores: Array(repeating: 1 / Float(count), count: count),
                          kind: .probabilities)
        case .box(let box):
            return Advice(continuous: box.sample(using: &generator))
        }
    }
}
