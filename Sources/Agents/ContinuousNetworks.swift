import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// The map between a bounded box of actions and [−1, 1] per dimension, where SAC's and
/// TD3's policies act (tanh outputs) and their replay buffers and critics work (SB3's
/// `scale_action` / `unscale_action`): a = low + (s + 1)·(high − low)/2.
public struct ActionScaling: Equatable, Sendable {
    public let low: [Float]
    public let high: [Float]

    /// The scaling of `box`.
    /// - Throws: `TrainingError.invalidConfiguration` when a bound is infinite (a squashed
    ///   policy needs a bounded box).
    public init(_ box: Box, algorithm: String) throws(TrainingError) {
        guard box.low.allSatisfy(\.isFinite), box.high.allSatisfy(\.isFinite), zip(box.low, box.high).allSatisfy({ $0 < $1 })
        else {
            throw .invalidConfiguration("\(algorithm) needs bounded continuous actions, and \(box) is not bounded; "
                + "wrap the environment so that its actions have finite bounds")
        }
        low = box.low
        high = box.high
    }

    public var width: Int { low.count }

    /// From [−1, 1] to the environment's units, dimension `j`.
    @inline(__always)
    public func unscaled(_ s: Float, dimension j: Int) -> Float {
        low[j] + (s + 1) * 0.5 * (high[j] - low[j])
    }

    /// From the environment's units to [−1, 1], dimension `j` (clipped to the bounds first).
    @inline(__always)
    public func scaled(_ a: Float, dimension j: Int) -> Float {
        let clipped = Swift.min(Swift.max(a, low[j]), high[j])
        return 2 * (clipped - low[j]) / (high[j] - low[j]) - 1
    }

    /// The spread `s` in [−1, 1] units as a spread in the environment's units.
    @inline(__always)
    public func unscaledSpread(_ s: Float, dimension j: Int) -> Float { s * 0.5 * (high[j] - low[j]) }

    /// Uniformly random actions in the environment's units for `count` copies (SAC's and
    /// TD3's warm-up): one draw in [−1, 1] per copy and dimension, in that order.
    public func writeUniformActions(
        count: Int, into actions: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
    ) {
        for i in 0..<count {
            for j in 0..<width { actions[i * width + j] = unscaled(generator.uniformFloat(-1, 1), dimension: j) }
        }
    }
}

extension ReplayBuffer {
    /// Stores every copy's transition of one vector step, copy 0 first, its continuous
    /// action scaled to [−1, 1] by `scaling` (SAC's and TD3's units). The successor is the
    /// final observation where an episode ended; only termination cuts the bootstrap.
    public func add(_ transitions: Transitions, scaledBy scaling: ActionScaling) {
        let width = scaling.width, size = observationSize
        var scaled = [Float](repeating: 0, count: width)
        for i in 0..<transitions.count {
            let action = transitions.continuousAction(ofCopy: i)
            for j in 0..<width { scaled[j] = scaling.scaled(action[j], dimension: j) }
            scaled.withUnsafeBufferPointer { scaled in
                add(observation: UnsafeBufferPointer(rebasing: transitions.observations[(i * size)..<((i + 1) * size)]),
                    continuousAction: scaled, reward: transitions.rewards[i],
                    nextObservation: transitions.successor(ofCopy: i), isTerminated: transitions.isTerminated[i])
            }
        }
    }
}

/// The hidden layers of a multilayer perceptron from `input` floats: a dense layer and
/// `activation` per size in `hidden`, each initialised with `initializer`; and their output width.
func makeHiddenLayers(
    input: Int, hidden: [Int], activation: Activation.Kind, initializer: Initializer, generator: inout SeededGenerator
) -> (layers: [any Layer], width: Int) {
    var layers: [any Layer] = []
    var width = input
    for size in hidden {
        layers.append(Dense(inputSize: width, outputSize: size, initializer: initializer, generator: &generator))
        layers.append(Activation(activation))
        width = size
    }
    return (layers, width)
}

/// A multilayer perceptron `input → hidden… → output` with `activation` after each hidden
/// layer and none after the output, every layer initialised with `initializer`.
public func makeMLP(
    input: Int, hidden: [Int], output: Int, activation: Activation.Kind, initializer: Initializer,
    generator: inout SeededGenerator
) -> Sequential {
    let (layers, width) = makeHiddenLayers(input: input, hidden: hidden, activation: activation,
                                           initializer: initializer, generator: &generator)
    return Sequential(layers + [Dense(inputSize: width, outputSize: output, initializer: initializer, generator: &generator)])
}

/// SAC's actor: an MLP from observations to features, then two heads, the mean μ and the
/// log standard deviation of a Gaussian that tanh squashes into (−1, 1) per dimension.
/// log σ is clamped to [−20, 2] (SB3's bounds).
public final class SquashedGaussianActor {
    public let observationSize: Int
    public let actionWidth: Int
    let trunk: Sequential
    let meanHead: Dense
    let logStdHead: Dense
    /// The bounds of log σ.
    public static let logStdRange: ClosedRange<Float> = -20...2

    public init(observationSize: Int, actionWidth: Int, hidden: [Int], activation: Activation.Kind,
                generator: inout SeededGenerator) {
        self.observationSize = observationSize
        self.actionWidth = actionWidth
        let (layers, width) = makeHiddenLayers(input: observationSize, hidden: hidden, activation: activation,
                                               initializer: .fanInUniform, generator: &generator)
        trunk = Sequential(layers)
        meanHead = Dense(inputSize: width, outputSize: actionWidth, initializer: .fanInUniform, generator: &generator)
        logStdHead = Dense(inputSize: width, outputSize: actionWidth, initializer: .fanInUniform, generator: &generator)
    }

    private init(replicating source: SquashedGaussianActor) {
        observationSize = source.observationSize
        actionWidth = source.actionWidth
        trunk = source.trunk.replica()
        meanHead = source.meanHead.replica()
        logStdHead = source.logStdHead.replica()
    }

    /// The same networks over the same parameter values, with gradients of their own (one
    /// per shard of a data-parallel update).
    public func replica() -> SquashedGaussianActor { SquashedGaussianActor(replicating: self) }

    /// The policy's distribution for a batch of observations [B, observationSize].
    public func callAsFunction(_ observations: Tensor) -> SquashedGaussian {
        let features = trunk(observations)
        let logStd = clamp(logStdHead(features), min: Self.logStdRange.lowerBound, max: Self.logStdRange.upperBound)
        return SquashedGaussian(mean: meanHead(features), logStandardDeviation: logStd)
    }

    /// The path from observations to μ (the trunk, then the mean head).
    public var meanNetwork: PolicyNetwork {
        PolicyNetwork(layers: Sequential(trunk.layers + [meanHead]), observationShape: [observationSize],
                      outputWidth: actionWidth, output: .gaussianMean)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed(trunk.namedParameters, "trunk.") + prefixed(meanHead.namedParameters, "mean.")
            + prefixed(logStdHead.namedParameters, "log_std.")
    }

    public var parameters: [Tensor] { namedParameters.map(\.tensor) }
}

/// TD3's actor: an MLP from observations to actions in (−1, 1) through a final tanh.
public final class DeterministicActor {
    public let observationSize: Int
    public let actionWidth: Int
    let network: Sequential

    public init(observationSize: Int, actionWidth: Int, hidden: [Int], activation: Activation.Kind,
                generator: inout SeededGenerator) {
        self.observationSize = observationSize
        self.actionWidth = actionWidth
        network = makeMLP(input: observationSize, hidden: hidden, output: actionWidth, activation: activation,
                          initializer: .fanInUniform, generator: &generator)
    }

    /// Actions in (−1, 1), [B, actionWidth].
    public func callAsFunction(_ observations: Tensor) -> Tensor { tanh(network(observations)) }

    private init(network: Sequential, observationSize: Int, actionWidth: Int) {
        self.network = network
        self.observationSize = observationSize
        self.actionWidth = actionWidth
    }

    /// The same network over the same parameter values, with gradients of its own.
    public func replica() -> DeterministicActor {
        DeterministicActor(network: network.replica(), observationSize: observationSize, actionWidth: actionWidth)
    }

    /// The path from observations to actions in [−1, 1] (the MLP, then tanh).
    public var policyNetwork: PolicyNetwork {
        PolicyNetwork(layers: Sequential(network.layers + [Activation(.tanh)]), observationShape: [observationSize],
                      outputWidth: actionWidth, output: .squashedAction)
    }

    /// Overwrites the weights with `source`'s (a hard target update).
    public func copyParameters(from source: DeterministicActor) { network.copyParameters(from: source.network) }

    /// θ ← τ·θ_source + (1 − τ)·θ.
    public func polyakUpdate(toward source: DeterministicActor, tau: Float) {
        network.polyakUpdate(toward: source.network, tau: tau)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { network.namedParameters }
    public var parameters: [Tensor] { network.parameters }
}

/// Two Q-networks Q₁, Q₂ over (observation, action in [−1, 1]) pairs, each an MLP on their
/// concatenation (SAC's and TD3's clipped double Q-learning, Fujimoto et al. 2018).
public final class TwinCritic {
    let first: Sequential
    let second: Sequential

    public init(observationSize: Int, actionWidth: Int, hidden: [Int], activation: Activation.Kind,
                generator: inout SeededGenerator) {
        first = makeMLP(input: observationSize + actionWidth, hidden: hidden, output: 1, activation: activation,
                        initializer: .fanInUniform, generator: &generator)
        second = makeMLP(input: observationSize + actionWidth, hidden: hidden, output: 1, activation: activation,
                         initializer: .fanInUniform, generator: &generator)
    }

    private init(first: Sequential, second: Sequential) {
        self.first = first
        self.second = second
    }

    /// The same networks over the same parameter values, with gradients of their own
    /// (`Layer.replica()`): the actor's loss goes through a replica, so it never touches the
    /// gradients of the critics' own loss.
    public func replica() -> TwinCritic { TwinCritic(first: first.replica(), second: second.replica()) }

    /// The same networks over the same parameter values, taking no gradients
    /// (`Layer.constantReplica()`): the actor's loss goes through this view, which
    /// differentiates the critics with respect to the action only.
    public func constantReplica() -> TwinCritic {
        TwinCritic(first: first.constantReplica(), second: second.constantReplica())
    }

    /// Forgets the gradients of both networks.
    public func zeroGradients() {
        first.zeroGradients()
        second.zeroGradients()
    }

    /// Q₁(s, a) and Q₂(s, a), each [B], for observations [B, O] and actions [B, A].
    public func callAsFunction(_ observations: Tensor, _ actions: Tensor) -> (Tensor, Tensor) {
        let input = Tensor.concatenate([observations, actions], alongAxis: 1)
        let rows = observations.shape[0]
        return (first(input).reshaped(to: [rows]), second(input).reshaped(to: [rows]))
    }

    /// Q₁(s, a) only (TD3's actor loss).
    public func firstValue(_ observations: Tensor, _ actions: Tensor) -> Tensor {
        let input = Tensor.concatenate([observations, actions], alongAxis: 1)
        return first(input).reshaped(to: [observations.shape[0]])
    }

    /// Overwrites the weights with `source`'s (the targets start as copies).
    public func copyParameters(from source: TwinCritic) {
        first.copyParameters(from: source.first)
        second.copyParameters(from: source.second)
    }

    /// θ ← τ·θ_source + (1 − τ)·θ for both networks.
    public func polyakUpdate(toward source: TwinCritic, tau: Float) {
        first.polyakUpdate(toward: source.first, tau: tau)
        second.polyakUpdate(toward: source.second, tau: tau)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed(first.namedParameters, "q1.") + prefixed(second.namedParameters, "q2.")
    }

    public var parameters: [Tensor] { namedParameters.map(\.tensor) }
}

/// Rows `rows` of a row-major table of `width` floats per row, as a tensor [rows, width]
/// (not recorded).
func makeBatch(_ values: [Float], rows: Range<Int>, width: Int) -> Tensor {
    precondition(values.count >= rows.upperBound * width, "a table of \(values.count) floats has no rows \(rows) of \(width)")
    return values.withUnsafeBufferPointer { source in
        makeObservationBatch(UnsafeBufferPointer(rebasing: source[(rows.lowerBound * width)..<(rows.upperBound * width)]),
                             count: rows.count, shape: [width])
    }
}

/// An actor evaluated against a constant view of the critics: the model of a
/// data-parallel actor update (each shard replicates the actor; the view takes no gradients
/// and is shared).
final class ActorAgainstCritics<Actor> {
    let actor: Actor
    let critics: TwinCritic

    init(actor: Actor, critics: TwinCritic) {
        self.actor = actor
        self.critics = critics
    }
}
