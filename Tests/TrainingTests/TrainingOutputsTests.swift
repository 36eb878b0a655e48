import Foundation
import Parallelism
import XCTest
@testable import Training

/// What a training run writes beyond metrics.csv and its checkpoint: TensorBoard events
/// and, on request, an ONNX model of its policy.
final class TrainingOutputsTests: XCTestCase {
    override func tearDown() {
        WorkerPool.shared.setThreadCount(1)
    }

    private func trainSmallRun(_ yaml: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentlab-outputs-\(UUID().uuidString)").path
        let configuration = try RunConfiguration(environment: "CartPole-v1", algorithm: "ppo", yaml: yaml)
        try TrainingSession(starting: configuration, folder: folder).run()
        return folder
    }

    /// One event per metrics row, at the row's step, holding every non-empty column but
    /// `step` under its own key with the CSV's value (as a float), then `charts/SPS` and
    /// `charts/wall_seconds`; the file opens with the `brain.Event:2` version record.
    func testEveryMetricsRowIsAnEventWithTheSameValues() throws {
        let folder = try trainSmallRun("steps: 2048\nthreads: 1\nppo: {network: {hidden_sizes: [8]}, steps_per_rollout: 128}")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = RunFolder(folder).eventFileURLs
        XCTAssertEqual(files.count, 1)
        let (records, isTruncated) = TensorBoardRecords.records(in: [UInt8](try Data(contentsOf: files[0])))
        XCTAssertFalse(isTruncated)
        XCTAssertEqual(try ProtobufFields(records[0]).string(3), "brain.Event:2")

        let lines = try String(contentsOfFile: "\(folder)/metrics.csv", encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(records.count, lines.count, "the version record, then one per row")
        for (line, record) in zip(lines.dropFirst(), records.dropFirst()) {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let event = try ProtobufFields(record)
            XCTAssertEqual(event.varint(2), Int(cells[0]), "the row's step")
            let values = try ProtobufFields(XCTUnwrap(event.bytes(5))).all(1).map { entry -> (String, Float) in
                guard case .bytes(let payload) = entry else { throw ProtobufFields.Malformed() }
                let value = try ProtobufFields(payload)
                return (value.string(1) ?? "", value.float(2) ?? .nan)
            }
            let expected = zip(header, cells).dropFirst().filter { !$0.1.isEmpty }.map { ($0.0, Float(Double($0.1)!)) }
            XCTAssertEqual(values.dropLast(2).map(\.0), expected.map(\.0))
            XCTAssertEqual(values.dropLast(2).map(\.1), expected.map(\.1))
            XCTAssertEqual(values.suffix(2).map(\.0), ["charts/SPS", "charts/wall_seconds"])
            XCTAssertTrue(values.suffix(2).allSatisfy { $0.1 > 0 })
        }
    }

    /// A recurrent policy's model takes one step: observations and the policy cell's state
    /// in, probabilities and the next state out; the LSTM is written as its gates.
    func testARecurrentModelCarriesItsState() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentlab-outputs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configuration = try RunConfiguration(
            environment: "TMaze-v0", algorithm: "recurrent_ppo",
            yaml: "steps: 256\nthreads: 1\nenvironments: 4\nrecurrent_ppo: {steps_per_rollout: 16, minibatches: 2, "
                + "network: {hidden_sizes: [8], recurrent: {cell: lstm, size: 6}}}")
        try TrainingSession(starting: configuration, folder: folder).run()
        let model = try TrainedRun(folder).onnxModel()
        XCTAssertEqual(model.inputs.map(\.name), ["observations", "state"])
        XCTAssertEqual(model.inputs.map(\.shape), [[4], [12]])
        XCTAssertEqual(model.outputs.map(\.name), ["probabilities", "next_state"])
        XCTAssertEqual(model.outputs.map(\.shape), [[4], [12]])
        let ops = model.graph.nodes.map(\.op)
        XCTAssertEqual(ops.filter { $0 == "Slice" }.count, 6, "h, c and four gates")
        XCTAssertEqual(ops.last, "Softmax")
        XCTAssertTrue(model.graph.nodes.contains { $0.op == "Concat" && $0.outputs == ["next_state"] })
        XCTAssertEqual(model.graph.integerConstants.count, 18, "starts, ends and axes of each slice")
    }

    /// The exported model: Gemm and tanh per hidden layer, the policy head, then softmax,
    /// named as documented, with the run's metadata; serialised as an ONNX IR 8 model of
    /// opset 17 whose graph reads `observations` and writes `probabilities`.
    func testTheExportedModelIsThePolicyWithItsMetadata() throws {
        let folder = try trainSmallRun("steps: 512\nthreads: 1\nppo: {network: {hidden_sizes: [8, 8]}, steps_per_rollout: 128}")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try TrainedRun(folder)
        let model = try run.onnxModel()
        XCTAssertEqual(model.graph.nodes.map(\.op), ["Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"])
        XCTAssertEqual(model.graph.nodes.last?.outputs, ["probabilities"])
        XCTAssertEqual(model.inputs.map(\.name), ["observations"])
        XCTAssertEqual(model.inputs[0].shape, [4])
        XCTAssertEqual(model.outputs.map(\.name), ["probabilities"])
        XCTAssertEqual(model.outputs[0].shape, [2])
        let metadata = Dictionary(uniqueKeysWithValues: model.metadata.map { ($0.key, $0.value) })
        XCTAssertEqual(metadata["agentlab.environment"], "CartPole-v1")
        XCTAssertEqual(metadata["agentlab.algorithm"], "ppo")
        XCTAssertEqual(metadata["agentlab.checkpoint_hash"], run.checkpointHash)
        XCTAssertEqual(metadata["agentlab.observation_normalization"], "none")

        let bytes = model.serialized()
        let fields = try ProtobufFields(bytes)
        XCTAssertEqual(fields.varint(1), 8, "ir_version")
        XCTAssertEqual(fields.string(2), "AgentLab")
        XCTAssertEqual(try ProtobufFields(XCTUnwrap(fields.bytes(8))).varint(2), 17, "opset version")
        let graph = try ProtobufFields(XCTUnwrap(fields.bytes(7)))
        XCTAssertEqual(graph.all(1).count, 6, "six nodes")
        XCTAssertEqual(graph.all(5).count, 6, "three weights and three biases")
        XCTAssertEqual(try ProtobufFields(XCTUnwrap(graph.bytes(11))).string(1), "observations")
        XCTAssertEqual(try ProtobufFields(XCTUnwrap(graph.bytes(12))).string(1), "probabilities")

        // Written atomically, with samples whose outputs are the agent's probabilities.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("agentlab-\(UUID().uuidString).onnx").path
        let summary = try run.exportONNX(to: out, samples: 20)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: summary.samplesPath ?? "")
        }
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))), bytes)
        XCTAssertEqual(summary.samplesPath, TrainedRun.defaultSamplesPath(for: out))
        let samples = try JSONDecoder().decode(
            PolicySamples.self, from: Data(contentsOf: URL(fileURLWithPath: XCTUnwrap(summary.samplesPath))))
        XCTAssertEqual(samples.observations.count, 20)
        for (observation, output) in zip(samples.observations, samples.outputs) {
            let choice = observation.withUnsafeBufferPointer { run.agent.choose(for: $0) }
            XCTAssertEqual(output, choice.scores)
            XCTAssertEqual(Double(output.reduce(0, +)), 1, accuracy: 1e-6)
        }
    }
}
