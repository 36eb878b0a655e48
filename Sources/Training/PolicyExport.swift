import Agents
import Environments
import Foundation
import NeuralNet

/// Why a run's policy cannot be exported.
public enum ExportError: Error, Equatable, CustomStringConvertible {
    /// The agent has no exportable network (an agent with memory), or a layer has no
    /// inference form.
    case unsupported(String)
    /// The file cannot be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsupported(let message): return message
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason); choose another --out"
        }
    }
}

/// What `exportONNX` wrote.
public struct PolicyExportSummary: Equatable, Sendable {
    public var path: String
    /// The model's output: `probabilities`, `q_values`, `action_mean` or `squashed_action`.
    public var outputName: String
    public var outputWidth: Int
    /// Whether the run's observation normalisation is part of the model.
    public var normalizesObservations: Bool
    /// The samples file, when samples were asked for.
    public var samplesPath: String?
    public var sampleCount: Int
}

/// The observations and outputs `exportONNX` writes beside the model, so another runtime
/// can be checked against AgentLab: raw observations (the model's inputs) from greedy
/// episodes, in order, and AgentLab's outputs for each. For an agent with memory,
/// `episodeStarts` marks the observations that begin an episode (where the state starts
/// from zeros) and `stateWidth` is the model's state width.
struct PolicySamples: Codable {
    var environment: String
    var algorithm: String
    var observationShape: [Int]
    var output: String
    var observations: [[Float]]
    var outputs: [[Float]]
    var episodeStarts: [Bool]
    var stateWidth: Int?

    enum CodingKeys: String, CodingKey {
        case environment, algorithm, output, observations, outputs
        case observationShape = "observation_shape", episodeStarts = "episode_starts", stateWidth = "state_width"
    }
}

extension TrainedRun {
    /// The run's policy as an ONNX model: raw observations in (`observations`, shaped
    /// [batch] + the observation shape, channels last for images), the run's observation
    /// normalisation baked in, and out the scores the agent chooses by: `probabilities`
    /// (softmax of a categorical policy's logits), `q_values` (DQN), `action_mean` (a
    /// Gaussian policy's mean, before clipping; SAC's before tanh) or `squashed_action`
    /// (TD3's, in [−1, 1]). An agent with memory's model takes one step: it also reads the
    /// policy cell's `state` ([batch, width], zeros at an episode's start) and writes
    /// `next_state`, to feed back at the next step. The metadata holds the environment id,
    /// the algorithm, the checkpoint's hash and step, and what the outputs mean.
    package func onnxModel() throws(ExportError) -> ONNXModel {
        let feedForward = agent.policyNetwork, recurrent = agent.recurrentPolicyNetwork
        let cell = recurrent?.cell as? any RecurrentInferenceExportable
        let shape: [Int], outputWidth: Int, output: PolicyNetwork.Output
        if let feedForward {
            (shape, outputWidth, output) = (feedForward.observationShape, feedForward.outputWidth, feedForward.output)
        } else if let recurrent, cell != nil {
            (shape, outputWidth, output) = (recurrent.observationShape, recurrent.outputWidth, recurrent.output)
        } else {
            throw .unsupported("\(configuration.algorithm)'s policy cannot be exported as ONNX")
        }
        var graph = InferenceGraph()
        let observations = graph.declare("observations")
        let normalized = normalize(observations, shape: shape, in: &graph)
        var value: String
        var state: (width: Int, input: String, output: String)?
        do throws(InferenceExportError) {
            if let feedForward {
                value = try feedForward.layers.export(to: &graph, input: normalized)
            } else if let recurrent, let cell {
                let stateInput = graph.declare("state")
                let features = try recurrent.encoder?.export(to: &graph, input: normalized) ?? normalized
                let step = cell.exportStep(to: &graph, input: features, state: stateInput)
                value = try recurrent.head.export(to: &graph, input: step.output)
                // Renamed where it is made and wherever it is read (a GRU's head reads it).
                graph.rename(output: step.state, to: "next_state")
                state = (cell.stateWidth, stateInput, "next_state")
            } else {
                preconditionFailure("checked above")
            }
        } catch {
            throw .unsupported("\(error)")
        }
        let outputName: String
        switch output {
        case .logits:
            outputName = "probabilities"
            value = graph.apply("Softmax", [value], attributes: [("axis", .int(-1))])
        case .qValues, .gaussianMean, .squashedAction:
            outputName = output.rawValue
            if value == observations { value = graph.apply("Identity", [value]) }
        }
        graph.rename(output: value, to: outputName)
        var inputs = [("observations", shape)], outputs = [(outputName, [outputWidth])]
        if let state {
            inputs.append((state.input, [state.width]))
            outputs.append((state.output, [state.width]))
        }
        return ONNXModel(
            graph: graph, inputs: inputs, outputs: outputs,
            name: "\(configuration.algorithm) on \(configuration.environment)",
            metadata: [
                ("agentlab.environment", configuration.environment), ("agentlab.algorithm", configuration.algorithm),
                ("agentlab.checkpoint_hash", checkpointHash), ("agentlab.checkpoint_step", String(info.step)),
                ("agentlab.seed", String(configuration.seed)), ("agentlab.network", info.network),
                ("agentlab.output", outputName),
                ("agentlab.observation_normalization", observationStatistics == nil ? "none" : "included"),
            ] + (state == nil ? [] : [("agentlab.state", "feed next_state back as state; zeros at an episode's start")]),
            producerVersion: agentLabVersion)
    }

    /// `value`, observations of `shape`, normalised as the agent saw them when the run
    /// normalises them: as `RunningMeanVariance.normalize`, (x − mean) / √(variance + 1e-8),
    /// clipped.
    private func normalize(_ value: String, shape: [Int], in graph: inout InferenceGraph) -> String {
        guard let statistics = observationStatistics else { return value }
        let mean = graph.constant(statistics.mean.map { Float($0) }, shape: shape, name: "observation_mean")
        let deviation = graph.constant(
            statistics.variance.map { Float(($0 + 1e-8).squareRoot()) }, shape: shape, name: "observation_std")
        let scaled = graph.apply("Div", [graph.apply("Sub", [value, mean]), deviation], name: "normalized")
        let clip = Float(configuration.wrappers.observationClip)
        let low = graph.constant([-clip], shape: [], name: "clip_min"), high = graph.constant([clip], shape: [], name: "clip_max")
        return graph.apply("Clip", [scaled, low, high], name: "normalized_clipped")
    }

    /// The observation statistics the agent saw its inputs through (nil: raw observations).
    var observationStatistics: RunningMeanVariance? {
        configuration.wrappers.normalizeObservations ? normalization?.observations : nil
    }

    /// Writes `onnxModel()` to `path` atomically. With `samples` > 0, also plays greedy
    /// episodes from `seed` and writes that many raw observations with AgentLab's outputs
    /// for each to `samplesPath` (JSON), for checking another runtime against AgentLab.
    public func exportONNX(
        to path: String, samples: Int = 0, samplesPath: String? = nil, seed: UInt64 = 0
    ) throws(ExportError) -> PolicyExportSummary {
        let model = try onnxModel()
        try Self.write(Data(model.serialized()), to: path)
        var summary = PolicyExportSummary(
            path: path, outputName: model.outputs[0].name, outputWidth: model.outputs[0].shape[0],
            normalizesObservations: observationStatistics != nil, samplesPath: nil, sampleCount: 0)
        if samples > 0 {
            let target = samplesPath ?? Self.defaultSamplesPath(for: path)
            let collected = try collectSamples(samples, model: model, seed: seed)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let json = try? encoder.encode(collected) else {
                throw .unsupported("the samples hold a NaN or infinite value, which JSON cannot carry")
            }
            try Self.write(json, to: target)
            summary.samplesPath = target
            summary.sampleCount = collected.observations.count
        }
        return summary
    }

    private static func write(_ data: Data, to path: String) throws(ExportError) {
        do {
            try AtomicFile.write(data, to: URL(fileURLWithPath: path))
        } catch {
            if case .unwritable(_, let reason) = error { throw .cannotWrite(path: path, reason: reason) }
            throw .cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// `policy.onnx` → `policy.samples.json`.
    public static func defaultSamplesPath(for modelPath: String) -> String {
        let url = URL(fileURLWithPath: modelPath)
        let stem = url.pathExtension.lowercased() == "onnx" ? url.deletingPathExtension() : url
        return stem.path + ".samples.json"
    }

    /// Greedy episodes on the raw environment (the action wrappers only): each raw
    /// observation, normalised as training saw it, is chosen from by the agent (with its
    /// memory, for an agent with one), and its scores recorded.
    private func collectSamples(_ count: Int, model: ONNXModel, seed: UInt64) throws(ExportError) -> PolicySamples {
        let feedForward = agent.policyNetwork
        let output = feedForward?.output ?? agent.recurrentPolicyNetwork?.output ?? .logits
        guard output.scoresActions || feedForward != nil else {
            throw .unsupported("--samples covers policies over numbered actions for agents with memory; leave it out")
        }
        var environment = configuration.wrappers.wrapActions(of: spec.makeEnvironment())
        let size = environment.observationSpace.count
        var raw = [Float](repeating: 0, count: size)
        raw.withUnsafeMutableBufferPointer { environment.reset(seed: seed, into: $0) }
        var memory = agent.makeMemory(), startsEpisode = true
        var samples = PolicySamples(
            environment: configuration.environment, algorithm: configuration.algorithm,
            observationShape: model.inputs[0].shape, output: model.outputs[0].name, observations: [], outputs: [],
            episodeStarts: [], stateWidth: model.inputs.count > 1 ? model.inputs[1].shape[0] : nil)
        while samples.observations.count < count {
            var seen = raw
            if let statistics = observationStatistics {
                seen.withUnsafeMutableBufferPointer {
                    statistics.normalize($0, clip: Float(configuration.wrappers.observationClip))
                }
            }
            // The agent's own scores where it has them (probabilities, Q-values), so the
            // check covers the softmax too; the network's outputs for a continuous policy.
            let choice = seen.withUnsafeBufferPointer { agent.choose(for: $0, memory: &memory) }
            samples.observations.append(raw)
            samples.episodeStarts.append(startsEpisode)
            samples.outputs.append(output.scoresActions ? choice.scores : feedForward!.outputs(for: seen, count: 1))
            let outcome = raw.withUnsafeMutableBufferPointer { observation in
                // An environment that refuses the step ends the episode here.
                if choice.isContinuous {
                    return choice.values.withUnsafeBufferPointer { try? environment.step($0, into: observation) }
                }
                return try? environment.step(choice.action, into: observation)
            }
            startsEpisode = outcome?.isDone ?? true
            if startsEpisode {
                raw.withUnsafeMutableBufferPointer { environment.reset(seed: nil, into: $0) }
                memory = agent.makeMemory()
            }
        }
        return samples
    }
}
