import Autodiff
import NeuralNet
import SeededRandom

/// What an actor-critic chose for a batch of observations, with what its update needs.
public struct PolicySample {
    /// aₜ, one per copy.
    public var actions: [Int]
    /// log π(aₜ|sₜ).
    public var logProbabilities: [Float]
    /// V(sₜ).
    public var values: [Float]
}

/// Samples one action per copy from `network`'s policy, without recording gradients.
public func samplePolicy(
    _ network: ActorCritic, observations: UnsafeBufferPointer<Float>, count: Int, generator: inout SeededGenerator
) -> PolicySample {
    let (logits, values) = withoutGradients {
        network(makeObservationBatch(observations, count: count, shape: network.observationShape))
    }
    let distribution = Categorical(logits: logits)
    let actions = distribution.sample(using: &generator)
    let logProbabilities = withoutGradients { distribution.logProbability(of: actions) }.scalars
    return PolicySample(actions: actions, logProbabilities: logProbabilities, values: values.scalars)
}

/// A truncated episode still has a future: adds γ·V(final observation) to the reward of
/// every copy whose episode hit its time limit (not one that terminated), in the row of
/// `rewards` starting at `row`, so the targets bootstrap through the time limit (SB3's rule).
public func bootstrapTruncatedEpisodes(
    _ transitions: Transitions, rewards: inout [Float], row: Int, network: ActorCritic, gamma: Float
) {
    for i in 0..<transitions.count where transitions.isTruncated[i] && !transitions.isTerminated[i] {
        let final = makeObservationBatch(transitions.successor(ofCopy: i), count: 1, shape: network.observationShape)
        let value = withoutGradients { network.values(final) }.scalar
        rewards[row + i] += gamma * value
    }
}

/// The advantages and value targets of a full rollout: every copy bootstraps from V of
/// the observation after the last step (`transitions.nextObservations`), then GAE(λ)
/// (n-step returns when λ = 1).
public func rolloutTargets(
    _ buffer: RolloutBuffer, after transitions: Transitions, network: ActorCritic, gamma: Float, lambda: Float
) -> (advantages: [Float], returns: [Float]) {
    let next = makeObservationBatch(transitions.nextObservations, count: transitions.count, shape: network.observationShape)
    let lastValues = withoutGradients { network.values(next) }.scalars
    return buffer.rewards.withUnsafeBufferPointer { rewards in
        buffer.values.withUnsafeBufferPointer { values in
            buffer.episodeEnded.withUnsafeBufferPointer { ended in
                lastValues.withUnsafeBufferPointer { last in
                    generalizedAdvantages(rewards: rewards, values: values, episodeEnded: ended, lastValues: last,
                                          steps: buffer.steps, copies: buffer.copies, gamma: gamma, lambda: lambda)
                }
            }
        }
    }
}
