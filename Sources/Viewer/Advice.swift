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
public struct Advice: Equatable, Sendable {
    /// How to read `scores`.
    public enum Kind: String, Equatable, Sendable {
        case probabilities, values, choice
    }

    /// The action to take, in `0..<actionSpace.count`.
    public var action: Int
    /// One score per action (empty for `.choice`).
    public var scores: [Float]
    public var kind: Kind

    public init(action: Int, scores: [Float], kind: Kind) {
        self.action = action
        self.scores = scores
        self.kind = kind
    }

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
}

extension ActionAdvisor {
    public mutating func episodeDidStart() {}
}

/// Plays uniformly random actions from its own seeded generator and reports the uniform
/// distribution as its probabilities: the default player of `agentlab record` until
/// trained runs can be loaded, and a baseline to compare agents with.
public struct RandomAdvisor: ActionAdvisor, Sendable {
    public let actionCount: Int
    private var generator: SeededGenerator

    /// - Parameters:
    ///   - actionCount: the environment's `actionSpace.count`.
    ///   - seed: seeds the generator (stream 1, so it differs from an environment seeded
    ///     with the same number, as in `agentlab rollout`).
    public init(actionCount: Int, seed: UInt64) {
        precondition(actionCount > 0, "a random advisor needs at least one action")
        self.actionCount = actionCount
        generator = SeededGenerator(seed: seed, stream: 1)
    }

    public mutating func advise(_ observation: [Float]) -> Advice {
        let action = generator.int(below: actionCount)
        return Advice(
            action: action, scores: Array(repeating: 1 / Float(actionCount), count: actionCount),
            kind: .probabilities)
    }
}
