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
/// episodes, and AgentLab's outputs for each.
struct PolicySamples: Codable {
    var environment: String
    var algorithm: String
    var observationShape: [Int]
    var output: String
    var observations: [[Float]]
    var outputs: [[Float]]

    enum CodingKeys: String, CodingKey {
        case environment, algorithm, output, observations, outputs
        case observationShape = "observation_shape"
    }
}

extension TrainedRun {
    /// The run's policy as an ONNX model: raw observations in (`observations`, shaped
    /// [batch] + the observation shape, channels last for images), the run's observation
    /// normalisation baked in, and out the scores the agent chooses by: `probabilities`
    /// (softmax of a categorical policy's logits), `q_values` (DQN), `action_mean` (a
    /// Gaussian policy's mean, before clipping; SAC's before tanh) or `squashed_action`
    /// (TD3's, in [−1, 1]). The metadata holds the environment id, the algorithm, the
    /// checkpoint's hash and step, and what the output means.
    package func onnxModel() throws(ExportError) -> ONNXModel {
        guard let policy = agent.policyNetwork else {
            throw .unsupported("\(configuration.algorithm) agents carry memory from step to step, which an ONNX export "
                + "does not cover yet; export a feed-forward run (ppo, a2c, reinforce, dqn, sac, td3)")
        }
        var graph = InferenceGraph()
        let input = graph.declare("observations")
        var value = input
        if let statistics = observationStatistics {
            // As `RunningMeanVariance.normalize`: (x − mean) / √(variance + 1e-8), clipped.
            let shape = policy.observationShape
            let mean = graph.constant(statistics.mean.map { Float($0) }, shape: shape, name: "observation_mean")
            let deviation = graph.constant(
                statistics.variance.map { Float(($0 + 1e-8).squareRoot()) }, shape: shape, name: "observation_std")
            value = graph.apply("Div", [graph.apply("Sub", [value, mean]), deviation], name: "normalized")
            let clip = Float(configuration.wrappers.observationClip)
            let low = graph.constant([-clip], shape: [], name: "clip_min"), high = graph.constant([clip], shape: [], name: "clip_max")
            value = graph.apply("Clip", [value, low, high], name: "normalized_clipped")
        }
        do {
            value = try policy.layers.export(to: &graph, input: value)
        } catch {
            throw .unsupported("\(error)")
        }
        let outputName: String
        switch policy.output {
        case .logits:
            outputName = "probabilities"
            value = graph.apply("Softmax", [value], attributes: [("axis", .int(-1))])
        case .qValues, .gaussianMean, .squashedAction:
            outputName = policy.output.rawValue
            if value == input { value = graph.apply("Identity", [value]) }
        }
        graph.rename(output: value, to: outputName)
        return ONNXModel(
            graph: graph, input: ("observations", policy.observationShape), output: (outputName, [policy.outputWidth]),
            name: "\(configuration.algorithm) on \(configuration.environment)",
            metadata: [
                ("agentlab.environment", configuration.environment), ("agentlab.algorithm", configuration.algorithm),
                ("agentlab.checkpoint_hash", checkpointHash), ("agentlab.checkpoint_step", String(info.step)),
                ("agentlab.seed", String(configuration.seed)), ("agentlab.network", info.network),
                ("agentlab.output", outputName),
                ("agentlab.observation_normalization", observationStatistics == nil ? "none" : "included"),
            ],
            producerVersion: agentLabVersion)
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
            path: path, outputName: model.output.name, outputWidth: model.output.shape[0],
            normalizesObservations: observationStatistics != nil, samplesPath: nil, sampleCount: 0)
        if samples > 0, let policy = agent.policyNetwork {
            let target = samplesPath ?? Self.defaultSamplesPath(for: path)
            let collected = collectSamples(samples, policy: policy, outputName: model.output.name, seed: seed)
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
    /// observation, normalised as training saw it, goes through the agent's network.
    private func collectSamples(_ count: Int, policy: PolicyNetwork, outputName: String, seed: UInt64) -> PolicySamples {
        var environment = configuration.wrappers.wrapActions(of: spec.makeEnvironment())
        let size = environment.observationSpace.count
        var raw = [Float](repeating: 0, count: size)
        raw.withUnsafeMutableBufferPointer { environment.reset(seed: seed, into: $0) }
        var samples = PolicySamples(
            environment: configuration.environment, algorithm: configuration.algorithm,
            observationShape: policy.observationShape, output: outputName, observations: [], outputs: [])
        while samples.observations.count < count {
            var seen = raw
            if let statistics = observationStatistics {
                seen.withUnsafeMutableBufferPointer {
                    statistics.normalize($0, clip: Float(configuration.wrappers.observationClip))
                }
            }
            // The agent's own scores where it has them (probabilities, Q-values), so the
            // check covers the softmax too; the network's outputs for a continuous policy.
            let choice = seen.withUnsafeBufferPointer { agent.choose(for: $0) }
            samples.observations.append(raw)
            samples.outputs.append(policy.output.scoresActions ? choice.scores : policy.outputs(for: seen, count: 1))
            let outcome = raw.withUnsafeMutableBufferPointer { observation in
                // An environment that refuses the step ends the episode here.
                if choice.isContinuous {
                    return choice.values.withUnsafeBufferPointer { try? environment.step($0, into: observation) }
                }
                return try? environment.step(choice.action, into: observation)
            }
            if outcome?.isDone ?? true { raw.withUnsafeMutableBufferPointer { environment.reset(seed: nil, into: $0) } }
        }
        return samples
    }
}
