import Agents
import Foundation
import NeuralNet

/// A training run's folder: `config.yaml` (fully resolved), `metrics.csv`,
/// `checkpoint.safetensors` with `checkpoint.json`, and `learning_curve.svg`.
/// Every file is written atomically (a temporary file, then a rename).
struct RunFolder {
    let url: URL

    init(_ path: String) { url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL }

    var path: String { url.path }
    var configURL: URL { url.appendingPathComponent("config.yaml") }
    var metricsURL: URL { url.appendingPathComponent("metrics.csv") }
    var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    var checkpointInfoURL: URL { url.appendingPathComponent("checkpoint.json") }
    var plotURL: URL { url.appendingPathComponent("learning_curve.svg") }

    /// Whether the folder already holds a run.
    var holdsRun: Bool {
        [configURL, checkpointURL, metricsURL].contains { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Creates the folder for a new run. A folder that holds another run is refused unless
    /// `force`, in which case that run's files are removed first.
    func create(force: Bool) throws(RunFolderError) {
        if holdsRun {
            guard force else { throw .alreadyHoldsRun(path) }
            for file in [configURL, metricsURL, checkpointURL, checkpointInfoURL, plotURL] {
                try? FileManager.default.removeItem(at: file)
            }
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .unwritable(path, reason: error.localizedDescription)
        }
    }

    /// The run's configuration from config.yaml.
    func readConfiguration() throws(RunFolderError) -> RunConfiguration {
        let text: String
        do { text = try String(contentsOf: configURL, encoding: .utf8) } catch {
            throw .corrupt(path, reason: "it has no readable config.yaml: is it a run folder?")
        }
        do {
            return try ConfigurationValue.parse(yaml: text, file: configURL.path).decoded(as: RunConfiguration.self)
        } catch {
            throw .corrupt(configURL.path, reason: error.description)
        }
    }

    /// Writes `text` to `file` atomically.
    func write(_ text: String, to file: URL) throws(RunFolderError) {
        do {
            try Data(text.utf8).write(to: file, options: .atomic)
        } catch {
            throw .unwritable(file.path, reason: error.localizedDescription)
        }
    }

    /// Saves the agent's state and its description. The weights file is written first,
    /// then `checkpoint.json` naming its hash, so a crash between the two is detected on
    /// load rather than mixing an old description with new weights.
    func saveCheckpoint(_ checkpoint: AgentCheckpoint, info: CheckpointInfo) throws(RunFolderError) {
        let names = checkpoint.tensors.keys.sorted()
        var metadata = checkpoint.state
        metadata["agentlab.step"] = String(info.step)
        metadata["agentlab.environment"] = info.environment
        metadata["agentlab.algorithm"] = info.algorithm
        let data = SafeTensors.encode(names.map { ($0, checkpoint.tensors[$0]!) }, metadata: metadata)
        var info = info
        info.checkpointHash = fnv1a64Hex(data)
        do {
            try data.write(to: checkpointURL, options: .atomic)
        } catch {
            throw .unwritable(checkpointURL.path, reason: error.localizedDescription)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(info).write(to: checkpointInfoURL, options: .atomic)
        } catch {
            throw .unwritable(checkpointInfoURL.path, reason: error.localizedDescription)
        }
    }

    /// Reads the checkpoint and its description, checking that they belong together.
    func loadCheckpoint() throws(RunFolderError) -> (checkpoint: AgentCheckpoint, info: CheckpointInfo, hash: String) {
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else { throw .missingCheckpoint(path) }
        let info: CheckpointInfo
        do {
            info = try JSONDecoder().decode(CheckpointInfo.self, from: Data(contentsOf: checkpointInfoURL))
        } catch {
            throw .corrupt(checkpointInfoURL.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        let data: Data
        do { data = try Data(contentsOf: checkpointURL) } catch {
            throw .corrupt(checkpointURL.path, reason: error.localizedDescription)
        }
        let hash = fnv1a64Hex(data)
        guard hash == info.checkpointHash else {
            throw .corrupt(checkpointURL.path, reason: "it does not match checkpoint.json (hash \(hash), expected "
                + "\(info.checkpointHash ?? "none")); the run was probably interrupted while saving or the files were mixed up")
        }
        do {
            let (tensors, metadata) = try SafeTensors.decode(data, path: checkpointURL.path)
            return (AgentCheckpoint(tensors: tensors, state: metadata), info, hash)
        } catch {
            throw .checkpoint(error)
        }
    }
}

/// What `checkpoint.json` says about a checkpoint.
struct CheckpointInfo: Codable, Equatable {
    var environment: String
    var algorithm: String
    /// The network's description; a checkpoint loads only into the same network.
    var network: String
    /// Environment steps trained.
    var step: Int
    var seed: UInt64
    /// Episodes finished during training.
    var episodes: Int
    /// AgentLab's version that wrote it.
    var version: String
    /// FNV-1a 64-bit hash of checkpoint.safetensors, in hex.
    var checkpointHash: String?

    enum CodingKeys: String, CodingKey {
        case environment, algorithm, network, step, seed, episodes, version
        case checkpointHash = "checkpoint_hash"
    }
}

enum RunFolderError: Error, CustomStringConvertible {
    case alreadyHoldsRun(String)
    case unwritable(String, reason: String)
    case missingCheckpoint(String)
    case corrupt(String, reason: String)
    case checkpoint(CheckpointError)
    case mismatch(String)

    var description: String {
        switch self {
        case .alreadyHoldsRun(let path):
            return "\(path) already holds a run: choose another --out, resume it with `agentlab train --resume \(path)`, or pass --force to replace it"
        case .unwritable(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .missingCheckpoint(let path):
            return "\(path) has no checkpoint.safetensors: it is not a run folder, or its training never reached the first checkpoint"
        case .corrupt(let path, let reason):
            return "\(path) is unusable: \(reason)"
        case .checkpoint(let error):
            return error.description
        case .mismatch(let message):
            return message
        }
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: a fast content fingerprint (not a cryptographic hash).
func fnv1a64Hex(_ data: Data) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in data {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// The version written into checkpoints.
let agentLabVersion = "0.1.0"
