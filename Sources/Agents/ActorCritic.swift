import Autodiff
import NeuralNet
import SeededRandom

/// A policy network (observations → action logits) and a value network (observations →
/// V(s)), for PPO, A2C and REINFORCE. Vector observations get two separate MLPs
/// (CleanRL's choice for classic control); image observations share one convolutional
/// trunk with two heads (MinAtar's and Atari's choice).
public final class ActorCritic {
    public let observationShape: [Int]
    public let actionCount: Int
    public let description: String
    /// The shared trunk (images), or nil for separate MLPs.
    private let trunk: Sequential?
    private let policy: Sequential
    private let value: Sequential

    /// Builds the networks; with `orthogonal`, hidden layers get gain √2, the policy head
    /// 0.01 and the value head 1 (PPO's standard), otherwise the layers' defaults.
    public init(
        observationShape: [Int], actionCount: Int, network: NetworkConfiguration, orthogonal: Bool,
        generator: inout SeededGenerator
    ) {
        self.observationShape = observationShape
        self.actionCount = actionCount
        let policyHead: Initializer = orthogonal ? .orthogonal(gain: 0.01) : .glorotUniform
        let valueHead: Initializer = orthogonal ? .orthogonal(gain: 1) : .glorotUniform
        if NetworkConfiguration.isImage(observationShape) {
            let (layers, width) = network.makeTrunk(observationShape: observationShape, orthogonal: orthogonal, generator: &generator)
            trunk = Sequential(layers)
            policy = Sequential(Dense(inputSize: width, outputSize: actionCount, initializer: policyHead, generator: &generator))
            value = Sequential(Dense(inputSize: width, outputSize: 1, initializer: valueHead, generator: &generator))
        } else {
            trunk = nil
            let (policyLayers, width) = network.makeTrunk(observationShape: observationShape, orthogonal: orthogonal, generator: &generator)
            policy = Sequential(policyLayers + [Dense(inputSize: width, outputSize: actionCount, initializer: policyHead, generator: &generator)])
            let (valueLayers, _) = network.makeTrunk(observationShape: observationShape, orthogonal: orthogonal, generator: &generator)
            value = Sequential(valueLayers + [Dense(inputSize: width, outputSize: 1, initializer: valueHead, generator: &generator)])
        }
        description = (trunk == nil ? "separate " : "shared ")
            + network.describe(observationShape: observationShape, outputs: actionCount)
    }

    private init(replicating source: ActorCritic) {
        observationShape = source.observationShape
        actionCount = source.actionCount
        description = source.description
        trunk = source.trunk?.replica()
        policy = source.policy.replica()
        value = source.value.replica()
    }

    /// The same networks over the same parameter values, with gradients of their own (one
    /// per shard of a data-parallel update; see `Layer.replica()`).
    public func replica() -> ActorCritic { ActorCritic(replicating: self) }

    /// Logits [batch, actions] and values [batch] of a batch of observations.
    public func callAsFunction(_ observations: Tensor) -> (logits: Tensor, values: Tensor) {
        let features = trunk.map { $0(observations) } ?? observations
        let values = value(features)
        return (policy(features), values.reshaped(to: [values.shape[0]]))
    }

    /// Values [batch] only (bootstrapping).
    public func values(_ observations: Tensor) -> Tensor {
        let features = trunk.map { $0(observations) } ?? observations
        let v = value(features)
        return v.reshaped(to: [v.shape[0]])
    }

    /// Logits only (acting greedily).
    public func logits(_ observations: Tensor) -> Tensor {
        policy(trunk.map { $0(observations) } ?? observations)
    }

    /// All parameters under stable names: `trunk.*`, `policy.*`, `value.*`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = []
        if let trunk { all += trunk.namedParameters.map { ("trunk." + $0.name, $0.tensor) } }
        all += policy.namedParameters.map { ("policy." + $0.name, $0.tensor) }
        all += value.namedParameters.map { ("value." + $0.name, $0.tensor) }
        return all
    }

    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The greedy action and the policy's probabilities for one observation.
    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        let logits = withoutGradients {
            self.logits(makeObservationBatch(observation, count: 1, shape: observationShape))
        }
        let probabilities = withoutGradients { logits.softmax() }.scalars
        return ActionChoice(action: logits.argmaxAlongLastAxis()[0], scores: probabilities, kind: .probabilities)
    }
}
