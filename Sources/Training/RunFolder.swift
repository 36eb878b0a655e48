import Agents
import Foundation
import NeuralNet

/// A training run's folder: `config.yaml` (fully resolved), `metrics.csv`,
/// `checkpoint.safetensors`, `checkpoint.json` (a readable summary of it) and
/// `learning_curve.svg`. Every file is written atomically (`AtomicFile`), and a checkpoint
/// is committed by one rename: `checkpoint.safetensors` holds everything a resume needs in
/// its metadata, so a kill at any moment leaves the last whole checkpoint loadable.
package struct RunFolder {
    package let url: URL

    package init(_ path: String) { url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL }

    package var path: String { url.path }
    package var configURL: URL { url.appendingPathComponent("config.yaml") }
    package var metricsURL: URL { url.appendingPathComponent("metrics.csv") }
    package var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    package var checkpointInfoURL: URL { url.appendingPathComponent("checkpoint.json") }
    package var plotURL: URL { url.appendingPathComponent("learning_curve.svg") }

    /// Whether the folder already holds a run.
    package var holdsRun: Bool {
        [configURL, checkpointURL, metricsURL].contains { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Creates the folder for a new run and locks it. A folder that holds another run is
    /// refused unless `force`, in which case that run's files are removed first (never
    /// while another process holds its lock).
    /// The TensorBoard event files (`events.out.tfevents.*`), one per training session.
    package var eventFileURLs: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted().map { url.appendingPathComponent($0) }
    }

    package func create(force: Bool) throws(RunFolderError) -> RunFolderLock {
        if holdsRun && !force { throw .alreadyHoldsRun(path) }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .unwritable(path, reason: error.localizedDescription)
        }
        let lock = try RunFolderLock(url)
        if holdsRun {
            for file in [configURL, metricsURL, checkpointURL, checkpointInfoURL, plotURL] + eventFileURLs {
                try? FileManager.default.removeItem(at: file)
            }
        }
        AtomicFile.removeLeftovers(in: url)
        return lock
    }

    /// Locks an existing run to continue it, and removes what a killed writer left behind.
    package func lockForResume() throws(RunFolderError) -> RunFolderLock {
        let lock = try RunFolderLock(url)
        AtomicFile.removeLeftovers(in: url)
        return lock
    }

    /// The run's configuration from config.yaml: every key known, every value of its type.
    package func readConfiguration() throws(RunFolderError) -> RunConfiguration {
        let text: String
        do { text = try ConfigurationValue.readText(of: configURL.path) } catch {
            if case .unreadable(_, let reason) = error, reason.hasPrefix("no such file") {
                throw .corrupt(path, reason: "it has no readable config.yaml: is it a run folder?")
            }
            throw .corrupt(configURL.path, reason: error.description)
        }
        do {
            return try RunConfiguration.decoded(from: ConfigurationValue.parse(yaml: text, file: configURL.path))
        } catch {
            throw .corrupt(configURL.path, reason: error.description)
        }
    }

    /// Writes `text` to `file` atomically.
    package func write(_ text: String, to file: URL) throws(RunFolderError) {
        try AtomicFile.write(Data(text.utf8), to: file)
    }

    /// Commits `saved` by one atomic rename of checkpoint.safetensors, then writes
    /// checkpoint.json, a summary for people and tools (nothing reads it back).
    package func saveCheckpoint(_ saved: SavedCheckpoint) throws(RunFolderError) {
        let names = saved.agent.tensors.keys.sorted()
        let data = SafeTensors.encode(names.map { ($0, saved.agent.tensors[$0]!) }, metadata: saved.metadata)
        try AtomicFile.write(data, to: checkpointURL)
        var info = saved.info
        info.checkpointHash = fnv1a64Hex(data)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let summary = try? encoder.encode(info) else { return }
        try AtomicFile.write(summary, to: checkpointInfoURL)
    }

    /// Reads the checkpoint: everything from checkpoint.safetensors alone, checked.
    package func loadCheckpoint() throws(RunFolderError) -> SavedCheckpoint {
        var status = stat()
        guard stat(checkpointURL.path, &status) == 0 else { throw .missingCheckpoint(path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .corrupt(checkpointURL.path, reason: "it is not a regular file")
        }
        let memory = ProcessInfo.processInfo.physicalMemory
        guard UInt64(status.st_size) <= memory / 2 else {
            throw .corrupt(checkpointURL.path, reason: "it is \(status.st_size) bytes, more than half of this machine's "
                + "\(memory) bytes of memory")
        }
        let data: Data
        do { data = try Data(contentsOf: checkpointURL) } catch {
            throw .corrupt(checkpointURL.path, reason: error.localizedDescription)
        }
        do {
            let (tensors, metadata) = try SafeTensors.decode(data, path: checkpointURL.path)
            if metadata[SavedCheckpoint.formatKey] == nil {
                return try SavedCheckpoint(legacy: AgentCheckpoint(tensors: tensors, state: metadata), data: data,
                                           summary: checkpointInfoURL)
            }
            return try SavedCheckpoint(tensors: tensors, metadata: metadata, hash: fnv1a64Hex(data))
        } catch {
            throw .checkpoint(checkpointURL.path, error)
        }
    }
}

/// What `checkpoint.json` says about a checkpoint (the same facts are in the checkpoint's
/// metadata, which is what AgentLab reads).
package struct CheckpointInfo: Codable, Equatable {
    package var environment: String
    package var algorithm: String
    /// The network's description; a checkpoint loads only into the same network.
    package var network: String
    /// Environment steps trained.
    package var step: Int
    package var seed: UInt64
    /// Episodes finished during training.
    package var episodes: Int
    /// AgentLab's version that wrote it.
    package var version: String
    /// FNV-1a 64-bit hash of checkpoint.safetensors, in hex.
    package var checkpointHash: String?

    package enum CodingKeys: String, CodingKey {
        case environment, algorithm, network, step, seed, episodes, version
        case checkpointHash = "checkpoint_hash"
    }
}

/// What can go wrong with a run folder; each message names the path and says what to do.
public enum RunFolderError: Error, CustomStringConvertible {
    case alreadyHoldsRun(String)
    case unwritable(String, reason: String)
    case missingCheckpoint(String)
    case corrupt(String, reason: String)
    case checkpoint(String, CheckpointError)
    case mismatch(String)
    case locked(String, holder: String)

    public var description: String {
        switch self {
        case .alreadyHoldsRun(let path):
            return "\(path) already holds a run: choose another --out, resume it with `agentlab train --resume \(path)`, or pass --force to replace it"
        case .unwritable(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .missingCheckpoint(let path):
            return "\(path) has no checkpoint.safetensors: it is not a run folder, or its training never reached the first checkpoint"
        case .corrupt(let path, let reason):
            return "\(path) is unusable: \(reason)"
        case .checkpoint(let path, let error):
            return "\(path): \(error.description)"
        case .mismatch(let message):
            return message
        case .locked(let path, let holder):
            return "\(path) is being written by \(holder); wait for it to finish or stop it (a run folder has one writer at a time)"
        }
    }
}

/// FNV-1a, 64 bits, as 16 hex digits: a fast content fingerprint (not a cryptographic hash).
package func fnv1a64Hex(_ data: Data) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in data {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// The version written into checkpoints.
package let agentLabVersion = "0.2.0"
