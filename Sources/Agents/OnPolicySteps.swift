import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// Copies per slice of an acting forward pass on the worker pool. Acting needs no weight
/// gradients, so slices much smaller than a gradient shard stay efficient, and 64 copies
/// (the MinAtar presets) already make two slices. Fixed, so acting is the same for any
/// thread count.
public let actingSliceSize = 32

/// What an actor-critic chose for a batch of observations, with what its update needs.
public struct PolicySample {
    /// aₜ, one per copy (discrete; empty for continuous actions).
    public var actions: [Int]
    /// aₜ, `width` floats per copy, as drawn (continuous; empty for discrete actions). The
    /// environment gets them clipped to its bounds, the update sees them as drawn.
    public var continuousActions: [Float] = []
    /// log π(aₜ|sₜ).
    public var logProbabilities: [Float]
    /// V(sₜ).
    public var values: [Float]
}

/// Samples one action per copy from `network`'s policy, without recording gradients.
///
/// The forward pass runs on the worker pool in slices of at most `actingSliceSize` copies
/// (a cut that depends on the count only, so the same for any thread count); the draws
/// are then made in copy order from `generator`.
public func samplePolicy(
    _ network: ActorCritic, observations: UnsafeBufferPointer<Float>, count: Int, generator: inout SeededGenerator
) -> PolicySample {
    if let logStd = network.logStd {
        return sampleGaussianPolicy(network, logStd: logStd, observations: observations, count: count,
                                    generator: &generator)
    }
    let width = network.actionCount, size = network.observationShape.reduce(1, *)
    let logProbabilities = Tensor.zeros([count, width]), values = Tensor.zeros([count])
    let slices = Shards(rows: count, shardSize: actingSliceSize)
    withoutGradients {
        parallelForEach(slices.count) { s in
            let rows = slices.rows(of: s)
            let batch = makeObservationBatch(
                UnsafeBufferPointer(rebasing: observations[(rows.lowerBound * size)..<(rows.upperBound * size)]),
                count: rows.count, shape: network.observationShape)
            let (logits, sliceValues) = network(batch)
            logits.logSoftmax().copyElements(to: logProbabilities.storage + rows.lowerBound * width)
            sliceValues.copyElements(to: values.storage + rows.lowerBound)
        }
    }
    let actions = Categorical(logProbabilities: logProbabilities).sample(using: &generator)
    let chosen = actions.enumerated().map { row, action in logProbabilities.storage[row * width + action] }
    return PolicySample(actions: actions, logProbabilities: chosen, values: values.scalars)
}

/// A Gaussian policy's draw for every copy: the means and values on the worker pool in
/// slices (as `samplePolicy`), then aₜ = μ + σ·ε with ε drawn in copy order, dimension by
/// dimension, and log π(aₜ|sₜ) from the same formula the update uses.
private func sampleGaussianPolicy(
    _ network: ActorCritic, logStd: Tensor, observations: UnsafeBufferPointer<Float>, count: Int,
    generator: inout SeededGenerator
) -> PolicySample {
    let width = network.actionCount, size = network.observationShape.reduce(1, *)
    let means = Tensor.zeros([count, width]), values = Tensor.zeros([count])
    let slices = Shards(rows: count, shardSize: actingSliceSize)
    withoutGradients {
        parallelForEach(slices.count) { s in
            let rows = slices.rows(of: s)
            let batch = makeObservationBatch(
                UnsafeBufferPointer(rebasing: observations[(rows.lowerBound * size)..<(rows.upperBound * size)]),
                count: rows.count, shape: network.observationShape)
            let (sliceMeans, sliceValues) = network(batch)
            sliceMeans.copyElements(to: means.storage + rows.lowerBound * width)
            sliceValues.copyElements(to: values.storage + rows.lowerBound)
        }
    }
    let deviations = logStd.scalars.map { FastMath.exp($0) }
    var actions = [Float](repeating: 0, count: count * width)
    for i in 0..<(count * width) { actions[i] = means.storage[i] + deviations[i % width] * Float(generator.normal()) }
    let logProbabilities = withoutGradients {
        DiagonalGaussian(mean: means, logStandardDeviation: logStd)
            .logProbability(of: Tensor(shape: [count, width], scalars: actions))
    }
    return PolicySample(actions: [], continuousActions: actions, logProbabilities: logProbabilities.scalars,
                        values: values.scalars)
}

/// Writes `sample`'s actions for the environments: the numbers, or the floats clipped to
/// `network`'s box (SB3 clips the same way; the rollout keeps them as drawn).
func writeActions(of sample: PolicySample, for network: ActorCritic, into actions: UnsafeMutableBufferPointer<Int>) {
    for i in 0..<sample.actions.count { actions[i] = sample.actions[i] }
}

func writeActions(of sample: PolicySample, for network: ActorCritic, into actions: UnsafeMutableBufferPointer<Float>) {
    guard let box = network.actionSpace.box else { preconditionFailure("a discrete policy has no continuous actions") }
    let width = box.count
    for i in 0..<sample.continuousActions.count {
        actions[i] = Swift.min(Swift.max(sample.continuousActions[i], box.low[i % width]), box.high[i % width])
    }
}

/// `forward` applied to `count` observations (rows of `shards`) without gradients, on the
/// worker pool in the slices of `shards`, its outputs [rows, width] stacked in row order.
func forwardInSlices(
    _ observations: UnsafeBufferPointer<Float>, shape: [Int], shards: Shards, width: Int,
    _ forward: (Tensor) -> Tensor
) -> Tensor {
    let size = shape.reduce(1, *)
    let output = Tensor.zeros([shards.rows, width])
    withoutGradients {
        parallelForEach(shards.count) { s in
            let rows = shards.rows(of: s)
            let batch = makeObservationBatch(
                UnsafeBufferPointer(rebasing: observations[(rows.lowerBound * size)..<(rows.upperBound * size)]),
                count: rows.count, shape: shape)
            forward(batch).copyElements(to: output.storage + rows.lowerBound * width)
        }
    }
    return output
}

/// V(s) of a batch of observations [rows] + shape, without gradients, computed on the
/// worker pool in the slices of `shards`.
func valuesInSlices(_ network: ActorCritic, _ observations: Tensor, shards: Shards) -> [Float] {
    let values = Tensor.zeros([shards.rows])
    withoutGradients {
        parallelForEach(shards.count) { s in
            let rows = shards.rows(of: s)
            network.values(observations.rows(rows)).copyElements(to: values.storage + rows.lowerBound)
        }
    }
    return values.scalars
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

/// The terms of a policy-gradient loss (A2C's, REINFORCE's), each a mean over rows.
public struct PolicyGradientLoss {
    public var total = 0.0, policy = 0.0, value = 0.0, entropy = 0.0

    /// The minibatch's terms from its shards' (already weighted by their share of the
    /// rows), added in shard order.
    init(combining parts: [PolicyGradientLoss]) {
        for part in parts {
            total += part.total
            policy += part.policy
            value += part.value
            entropy += part.entropy
        }
    }

    init(total: Double, policy: Double, value: Double, entropy: Double) {
        (self.total, self.policy, self.value, self.entropy) = (total, policy, value, entropy)
    }

    /// On one shard: −mean(A·log π(a|s)) − c_ent·mean entropy + c_v·mean (G − V)² (no
    /// value term when `valueCoefficient` is nil), back-propagated scaled by `weight` (the
    /// shard's share of the rows); returns the terms, scaled the same way.
    static func backpropagate(
        distribution: PolicyDistribution, values: Tensor, actions: PolicyActions, advantages: [Float], returns: [Float],
        entropyCoefficient: Double, valueCoefficient: Double?, weight: Float
    ) -> PolicyGradientLoss {
        let advantage = Tensor(shape: [advantages.count], scalars: advantages)
        let target = Tensor(shape: [returns.count], scalars: returns)
        // The policy gradient: raise log π of actions that did better than expected.
        let policyLoss = -(advantage * distribution.logProbability(of: actions)).mean()
        let valueLoss = square(target - values).mean()
        let entropy = distribution.entropy().mean()
        var loss = policyLoss - entropy * Float(entropyCoefficient)
        if let valueCoefficient { loss = loss + valueLoss * Float(valueCoefficient) }
        loss.backward(seed: [weight])
        let w = Double(weight)
        return PolicyGradientLoss(total: w * Double(loss.scalar), policy: w * Double(policyLoss.scalar),
                                  value: w * Double(valueLoss.scalar), entropy: w * Double(entropy.scalar))
    }
}
