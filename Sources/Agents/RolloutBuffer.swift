/// On-policy storage for PPO and A2C: `steps` vector steps of `copies` environments,
/// preallocated, step-major (`[t * copies + i]`), thrown away after each update.
public final class RolloutBuffer {
    public let steps: Int
    public let copies: Int
    public let observationSize: Int
    /// Observations sₜ, `steps × copies × observationSize`.
    public private(set) var observations: [Float]
    public private(set) var actions: [Int]
    /// Rewards, with γ·V(final observation) already added where an episode was truncated.
    public var rewards: [Float]
    /// V(sₜ) when the action was chosen.
    public private(set) var values: [Float]
    /// log π(aₜ|sₜ) when the action was chosen.
    public private(set) var logProbabilities: [Float]
    /// Whether the episode ended (terminated or truncated) at this step.
    public private(set) var episodeEnded: [Bool]
    /// Vector steps stored so far.
    public private(set) var position = 0
    /// V(s) and log π(a|s) of the actions `sampleActions` last chose, stored by `record`.
    private var pendingValues: [Float] = []
    private var pendingLogProbabilities: [Float] = []

    public init(steps: Int, copies: Int, observationSize: Int) {
        precondition(steps > 0 && copies > 0, "a rollout needs at least one step and one copy")
        self.steps = steps
        self.copies = copies
        self.observationSize = observationSize
        observations = Array(repeating: 0, count: steps * copies * observationSize)
        actions = Array(repeating: 0, count: steps * copies)
        rewards = Array(repeating: 0, count: steps * copies)
        values = Array(repeating: 0, count: steps * copies)
        logProbabilities = Array(repeating: 0, count: steps * copies)
        episodeEnded = Array(repeating: false, count: steps * copies)
    }

    public var isFull: Bool { position == steps }
    /// Transitions per full rollout.
    public var capacity: Int { steps * copies }

    /// Stores one vector step.
    public func append(
        _ transitions: Transitions, values stepValues: [Float], logProbabilities stepLogProbabilities: [Float]
    ) {
        precondition(position < steps, "rollout buffer is full: call reset() after the update")
        let base = position * copies
        let width = copies * observationSize
        observations.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + base * observationSize).update(from: transitions.observations.baseAddress!, count: width)
        }
        for i in 0..<copies {
            actions[base + i] = transitions.actions[i]
            rewards[base + i] = transitions.rewards[i]
            values[base + i] = stepValues[i]
            logProbabilities[base + i] = stepLogProbabilities[i]
            episodeEnded[base + i] = transitions.isTerminated[i] || transitions.isTruncated[i]
        }
        position += 1
    }

    /// Samples one action per copy from `network`'s policy (no gradients are recorded) and
    /// remembers V(s) and log π(a|s) for `record`.
    public func sampleActions(
        from network: ActorCritic, observations: UnsafeBufferPointer<Float>, count: Int,
        generator: inout SeededGenerator, into actions: UnsafeMutableBufferPointer<Int>
    ) {
        let (logits, values) = withoutGradients {
            network(makeObservationBatch(observations, count: count, shape: network.observationShape))
        }
        let distribution = Categorical(logits: logits)
        let chosen = distribution.sample(using: &generator)
        pendingLogProbabilities = withoutGradients { distribution.logProbability(of: chosen) }.scalars
        pendingValues = values.scalars
        for i in 0..<count { actions[i] = chosen[i] }
    }

    /// Appends a vector step with the values and log-probabilities `sampleActions`
    /// remembered. A truncated episode still has a future: γ·V(final observation) is folded
    /// into its last reward, so the targets bootstrap through the time limit (SB3's rule).
    public func record(_ transitions: Transitions, network: ActorCritic, gamma: Float) {
        append(transitions, values: pendingValues, logProbabilities: pendingLogProbabilities)
        for i in 0..<transitions.count where transitions.isTruncated[i] && !transitions.isTerminated[i] {
            let final = makeObservationBatch(transitions.successor(ofCopy: i), count: 1, shape: network.observationShape)
            let value = withoutGradients { network.values(final) }.scalar
            rewards[(position - 1) * copies + i] += gamma * value
        }
    }

    /// The advantages and value targets of the full rollout: every copy bootstraps from
    /// V of the observation after the last step, then GAE(λ) (n-step returns when λ = 1).
    public func targets(
        after transitions: Transitions, network: ActorCritic, gamma: Float, lambda: Float
    ) -> (advantages: [Float], returns: [Float]) {
        let next = makeObservationBatch(transitions.nextObservations, count: transitions.count, shape: network.observationShape)
        let lastValues = withoutGradients { network.values(next) }.scalars
        return rewards.withUnsafeBufferPointer { rewards in
            values.withUnsafeBufferPointer { values in
                episodeEnded.withUnsafeBufferPointer { ended in
                    lastValues.withUnsafeBufferPointer { last in
                        generalizedAdvantages(rewards: rewards, values: values, episodeEnded: ended, lastValues: last,
                                              steps: steps, copies: copies, gamma: gamma, lambda: lambda)
                    }
                }
            }
        }
    }

    /// Empties the buffer (storage is kept).
    public func reset() { position = 0 }

    /// The observations at the given flat indices as a batch tensor [indices.count] + shape.
    public func observationBatch(_ indices: ArraySlice<Int>, shape: [Int]) -> Tensor {
        let batch = Tensor(repeating: 0, shape: [indices.count] + shape)
        observations.withUnsafeBufferPointer { source in
            for (row, index) in indices.enumerated() {
                (batch.storage + row * observationSize)
                    .update(from: source.baseAddress! + index * observationSize, count: observationSize)
            }
        }
        return batch
    }
}

/// `values[indices]` as a 1-D tensor.
func gathered(_ values: [Float], _ indices: ArraySlice<Int>) -> Tensor {
    Tensor(shape: [indices.count], scalars: indices.map { values[$0] })
}

/// A uniformly random permutation of `0..<count` (Fisher–Yates) from `generator`.
public func shuffledIndices(_ count: Int, using generator: inout SeededGenerator) -> [Int] {
    var indices = Array(0..<count)
    if count > 1 {
        for i in stride(from: count - 1, to: 0, by: -1) {
            indices.swapAt(i, generator.int(below: i + 1))
        }
    }
    return indices
}
