import Autodiff
import Environments
import NeuralNet
import SeededRandom

/// A policy and a value network with memory, for recurrent PPO: observations (through the
/// convolutional trunk first, for images) feed a recurrent cell whose output goes through
/// the configuration's hidden layers to the policy head; the value head reads a second cell
/// of its own (SB3-contrib's `RecurrentPPO` default) or, with `recurrent.shared`, the same one
/// (CleanRL's `ppo_atari_lstm.py`).
///
/// Memory is one row of floats per sequence: the policy cell's state, then the value
/// cell's. The network reads whole sequences time-major, [T·B] rows with row t·B + b for
/// step t of sequence b, so one product per step serves every sequence.
public final class RecurrentActorCritic {
    public let observationShape: [Int]
    /// The policy's output width: actions (discrete) or floats per action (continuous).
    public let actionCount: Int
    public let actionSpace: ActionSpace
    public let description: String
    /// The convolutional trunk for image observations, shared by both cells; nil for vectors.
    private let encoder: Sequential?
    private let policyCell: any RecurrentLayer
    /// The value head's own cell; nil when it shares the policy's.
    private let valueCell: (any RecurrentLayer)?
    private let policy: Sequential
    private let value: Sequential
    /// log σ of a Gaussian policy, [actionCount]; nil for a categorical one.
    public let logStd: Tensor?

    /// Builds the networks for `actionSpace` with PPO's orthogonal initialisation: hidden
    /// layers gain √2, the policy head 0.01, the value head 1, the cells gain 1 with zero
    /// biases.
    /// - Precondition: `network.recurrent` is set.
    public init(
        observationShape: [Int], actionSpace: ActionSpace, network: NetworkConfiguration, generator: inout SeededGenerator
    ) {
        guard let recurrent = network.recurrent else { preconditionFailure("a recurrent actor-critic needs network.recurrent") }
        self.observationShape = observationShape
        self.actionSpace = actionSpace
        actionCount = actionSpace.width
        logStd = actionSpace.isContinuous ? .zeros([actionCount], requiresGradient: true) : nil
        var featureWidth = observationShape.reduce(1, *)
        if NetworkConfiguration.isImage(observationShape) {
            let (layers, width) = network.makeTrunk(observationShape: observationShape, orthogonal: true, generator: &generator)
            encoder = Sequential(layers)
            featureWidth = width
        } else {
            encoder = nil
        }
        func makeCell(_ generator: inout SeededGenerator) -> any RecurrentLayer {
            makeRecurrentLayer(recurrent.cell, inputSize: featureWidth, hiddenSize: recurrent.size, initializer: .orthogonal,
                               generator: &generator)
        }
        func makeHead(outputs: Int, gain: Float, _ generator: inout SeededGenerator) -> Sequential {
            let (layers, width) = network.makeHiddenLayers(inputWidth: recurrent.size, orthogonal: true, generator: &generator)
            return Sequential(layers + [Dense(inputSize: width, outputSize: outputs, initializer: .orthogonal(gain: gain),
                                              generator: &generator)])
        }
        policyCell = makeCell(&generator)
        valueCell = recurrent.shared ? nil : makeCell(&generator)
        policy = makeHead(outputs: actionCount, gain: 0.01, &generator)
        value = makeHead(outputs: 1, gain: 1, &generator)
        description = "recurrent " + network.describe(observationShape: observationShape, outputs: actionCount)
            + (actionSpace.isContinuous ? " gaussian" : "")
    }

    private init(replicating source: RecurrentActorCritic) {
        observationShape = source.observationShape
        actionCount = source.actionCount
        actionSpace = source.actionSpace
        description = source.description
        encoder = source.encoder?.replica()
        policyCell = source.policyCell.replica()
        valueCell = source.valueCell?.replica()
        policy = source.policy.replica()
        value = source.value.replica()
        logStd = source.logStd?.replica()
    }

    /// The same networks over the same parameter values, with gradients of their own.
    public func replica() -> RecurrentActorCritic { RecurrentActorCritic(replicating: self) }

    /// Floats of memory per sequence: the policy cell's state, then the value cell's.
    public var memoryWidth: Int { policyCell.stateWidth + (valueCell?.stateWidth ?? 0) }

    /// The policy's outputs [T·B, actionCount], the values [T·B] and the memory after the
    /// last step [B, memoryWidth], for `steps` steps of B sequences.
    /// - Parameters:
    ///   - observations: [T·B] + observation shape, time-major (row t·B + b).
    ///   - memory: [B, memoryWidth], the memory before the first step.
    ///   - resets: T·B flags: where set, that sequence's memory is zeroed before that step.
    public func callAsFunction(
        _ observations: Tensor, memory: Tensor, steps: Int, resets: [Bool]?
    ) -> (outputs: Tensor, values: Tensor, memory: Tensor) {
        let rows = observations.shape[0], batch = rows / Swift.max(steps, 1)
        precondition(steps > 0 && batch * steps == rows && memory.shape == [batch, memoryWidth],
                     "recurrent actor-critic: \(rows) rows, \(steps) steps and memory \(memory.shape) do not fit")
        let flat = encoder.map { $0(observations) } ?? observations.reshaped(to: [rows, -1])
        let features = flat.reshaped(to: [steps, batch, flat.shape[1]])
        let policyWidth = policyCell.stateWidth
        let (policyOutputs, policyStates) = policyCell.sequence(
            features, initialState: memory.sliced(alongAxis: 1, 0..<policyWidth), resets: resets)
        let policyFeatures = policyOutputs.reshaped(to: [rows, policyCell.hiddenSize])
        var finalStates = [Self.lastStep(policyStates)]
        let valueFeatures: Tensor
        if let valueCell {
            let (valueOutputs, valueStates) = valueCell.sequence(
                features, initialState: memory.sliced(alongAxis: 1, policyWidth..<memoryWidth), resets: resets)
            valueFeatures = valueOutputs.reshaped(to: [rows, valueCell.hiddenSize])
            finalStates.append(Self.lastStep(valueStates))
        } else {
            valueFeatures = policyFeatures
        }
        let values = value(valueFeatures)
        let finalMemory = withoutGradients {
            finalStates.count == 1 ? finalStates[0] : Tensor.concatenate(finalStates, alongAxis: 1)
        }
        return (policy(policyFeatures), values.reshaped(to: [rows]), finalMemory)
    }

    /// The states [T, B, W] of a sequence's last step, [B, W], as plain values.
    private static func lastStep(_ states: Tensor) -> Tensor {
        withoutGradients {
            let (steps, batch) = (states.shape[0], states.shape[1])
            return states.sliced(alongAxis: 0, (steps - 1)..<steps).reshaped(to: [batch, states.shape[2]])
        }
    }

    /// The policy's path: the encoder, the policy cell and the policy head.
    public var policyNetwork: RecurrentPolicyNetwork {
        RecurrentPolicyNetwork(encoder: encoder, cell: policyCell, head: policy, observationShape: observationShape,
                               outputWidth: actionCount, output: actionSpace.isContinuous ? .gaussianMean : .logits)
    }

    /// The policy's distribution given its outputs (categorical over logits, or Gaussian).
    public func distribution(_ outputs: Tensor) -> PolicyDistribution {
        PolicyDistribution(outputs: outputs, logStd: logStd)
    }

    /// All parameters under stable names: `encoder.*`, `policy_cell.*`, `value_cell.*`,
    /// `policy.*`, `value.*`.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = []
        if let encoder { all += prefixed(encoder.namedParameters, "encoder.") }
        all += prefixed(policyCell.namedParameters, "policy_cell.")
        if let valueCell { all += prefixed(valueCell.namedParameters, "value_cell.") }
        all += prefixed(policy.namedParameters, "policy.")
        all += prefixed(value.namedParameters, "value.")
        if let logStd { all.append(("policy.log_std", logStd)) }
        return all
    }

    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The greedy action and its scores for one observation, reading and updating `memory`
    /// (a zero memory when nil: the episode's first step).
    public func choose(for observation: UnsafeBufferPointer<Float>, memory: inout AgentMemory?) -> ActionChoice {
        let before = memory?.state ?? [Float](repeating: 0, count: memoryWidth)
        let (outputs, after) = withoutGradients {
            let (outputs, _, after) = self(makeObservationBatch(observation, count: 1, shape: observationShape),
                                           memory: Tensor(shape: [1, memoryWidth], scalars: before), steps: 1, resets: nil)
            return (outputs, after)
        }
        memory = AgentMemory(state: after.scalars)
        return greedyChoice(outputs: outputs, logStd: logStd, actionSpace: actionSpace)
    }
}
