import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// A policy network and a value network (observations → V(s)), for PPO, A2C and
/// REINFORCE. Vector observations get two separate MLPs (CleanRL's choice for classic
/// control); image observations share one convolutional trunk with two heads (MinAtar's and
/// Atari's choice).
///
/// For discrete actions the policy's outputs are logits of a categorical distribution.
/// For continuous actions they are the means of a diagonal Gaussian whose log standard
/// deviation is one learned vector for every state (`logStd`, starting at 0: σ = 1), as in
/// CleanRL's `ppo_continuous_action.py` and SB3's `DiagGaussianDistribution`.
public final class ActorCritic {
    public let observationShape: [Int]
    /// The number of actions (discrete) or of floats in an action (continuous): the
    /// policy's output width.
    public let actionCount: Int
    /// The action space the policy acts in.
    public let actionSpace: ActionSpace
    public let description: String
    /// The shared trunk (images), or nil for separate MLPs.
    private let trunk: Sequential?
    private let policy: Sequential
    private let value: Sequential
    /// log σ of a Gaussian policy, [actionCount]; nil for a categorical one.
    public let logStd: Tensor?

    /// Builds the networks; with `orthogonal`, hidden layers get gain √2, the policy head
    /// 0.01 and the value head 1 (PPO's standard), otherwise the layers' defaults.
    public convenience init(
        observationShape: [Int], actionCount: Int, network: NetworkConfiguration, orthogonal: Bool,
        generator: inout SeededGenerator
    ) {
        self.init(observationShape: observationShape, actionSpace: .discrete(Discrete(actionCount)), network: network,
                  orthogonal: orthogonal, generator: &generator)
    }

    /// Builds the networks for `actionSpace`: logits for a discrete space, Gaussian means
    /// and a log standard deviation for a box.
    public init(
        observationShape: [Int], actionSpace: ActionSpace, network: NetworkConfiguration, orthogonal: Bool,
        generator: inout SeededGenerator
    ) {
        let actionCount = actionSpace.width
        self.observationShape = observationShape
        self.actionCount = actionCount
        self.actionSpace = actionSpace
        logStd = actionSpace.isContinuous ? .zeros([actionCount], requiresGradient: true) : nil
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
            + (actionSpace.isContinuous ? " gaussian" : "")
    }

    private init(replicating source: ActorCritic) {
        observationShape = source.observationShape
        actionCount = source.actionCount
        actionSpace = source.actionSpace
        description = source.description
        trunk = source.trunk?.replica()
        policy = source.policy.replica()
        value = source.value.replica()
        logStd = source.logStd?.replica()
    }

    /// The policy's distribution given its outputs [batch, actionCount] (`callAsFunction`'s
    /// first result): categorical over logits, or Gaussian around means with σ = e^logStd.
    public func distribution(_ outputs: Tensor) -> PolicyDistribution {
        PolicyDistribution(outputs: outputs, logStd: logStd)
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

    /// The policy's path from observations to outputs (the trunk's layers, then the
    /// policy's): logits, or a Gaussian's means.
    public var policyNetwork: PolicyNetwork {
        PolicyNetwork(layers: Sequential((trunk?.layers ?? []) + policy.layers), observationShape: observationShape,
                      outputWidth: actionCount, output: actionSpace.isContinuous ? .gaussianMean : .logits)
    }

    /// All parameters under stable names: `trunk.*`, `policy.*`, `value.*`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = []
        if let trunk { all += trunk.namedParameters.map { ("trunk." + $0.name, $0.tensor) } }
        all += policy.namedParameters.map { ("policy." + $0.name, $0.tensor) }
        all += value.namedParameters.map { ("value." + $0.name, $0.tensor) }
        if let logStd { all.append(("policy.log_std", logStd)) }
        return all
    }

    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The greedy action and the policy's probabilities for one observation; for a
    /// Gaussian policy its mean clipped to the bounds, with σ per dimension.
    public func choose(for observation: UnsafeBufferPointer<Float>) -> ActionChoice {
        let logits = withoutGradients {
            self.logits(makeObservationBatch(observation, count: 1, shape: observationShape))
        }
        return greedyChoice(outputs: logits, logStd: logStd, actionSpace: actionSpace)
    }
}

/// The greedy choice that a policy's outputs [1, width] for one observation give: for a
/// Gaussian policy (`logStd` set) its mean clipped to the bounds, with σ per dimension;
/// otherwise the most probable action, with the probabilities.
func greedyChoice(outputs: Tensor, logStd: Tensor?, actionSpace: ActionSpace) -> ActionChoice {
    if let logStd, let box = actionSpace.box {
        let mean = outputs.scalars
        let values = (0..<box.count).map { Swift.min(Swift.max(mean[$0], box.low[$0]), box.high[$0]) }
        return ActionChoice(continuous: values, spreads: logStd.scalars.map { FastMath.exp($0) })
    }
    let probabilities = withoutGradients { outputs.softmax() }.scalars
    return ActionChoice(action: outputs.argmaxAlongLastAxis()[0], scores: probabilities, kind: .probabilities)
}

/// A policy's distribution over a batch of states: categorical over numbered actions, or
/// a diagonal Gaussian over continuous ones.
public enum PolicyDistribution {
    case categorical(Categorical)
    case gaussian(DiagonalGaussian)

    /// The distribution a policy's outputs [batch, width] describe: categorical over
    /// logits, or, with `logStd`, Gaussian around means with σ = e^logStd.
    public init(outputs: Tensor, logStd: Tensor?) {
        if let logStd {
            self = .gaussian(DiagonalGaussian(mean: outputs, logStandardDeviation: logStd))
        } else {
            self = .categorical(Categorical(logits: outputs))
        }
    }

    /// log π(a|s) per row, differentiable, [batch].
    public func logProbability(of actions: PolicyActions) -> Tensor {
        switch (self, actions) {
        case (.categorical(let distribution), .discrete(let actions)):
            return distribution.logProbability(of: actions)
        case (.gaussian(let distribution), .continuous(let actions)):
            return distribution.logProbability(of: actions)
        default:
            preconditionFailure("a \(self) policy was given \(actions) actions")
        }
    }

    /// The entropy per row, differentiable, [batch].
    public func entropy() -> Tensor {
        switch self {
        case .categorical(let distribution): distribution.entropy()
        case .gaussian(let distribution): distribution.entropy()
        }
    }
}

/// The actions of a batch: one number per row, or a row of floats per row ([batch, width]).
public enum PolicyActions {
    case discrete([Int])
    case continuous(Tensor)
}
