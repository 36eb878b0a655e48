import Agents
import Environments
import Foundation
import NeuralNet

/// Everything one checkpoint holds, in one file: the agent's state, what the run is, and
/// the run's own state at that step (its metrics so far, the session's pending sums, the
/// environments), so that a resumed run continues exactly and nothing else must agree with
/// it. Stored in checkpoint.safetensors: tensors for the agent, `__metadata__` for the rest.
package struct SavedCheckpoint {
    package static let formatKey = "agentlab.format"
    package static let format = "2"

    /// The agent's tensors and state.
    package var agent: AgentCheckpoint
    package var info: CheckpointInfo
    /// The configuration the run was trained with (nil in checkpoints of format 1).
    package var configuration: RunConfiguration?
    /// The session's state at the checkpoint (nil in format 1).
    package var session: SessionState?
    /// metrics.csv as it was at the checkpoint (nil in format 1).
    package var metrics: String?
    /// The vector environment's saved state (nil when it could not be saved).
    package var environments: Data?
    /// The normalisation statistics (nil when the run normalises nothing): evaluation
    /// applies them frozen, even when the environments' state could not be saved.
    package var normalization: NormalizedVectorEnvironment.Statistics?
    /// FNV-1a hash of the file's bytes (set when read).
    package var hash: String = ""

    package init(agent: AgentCheckpoint, info: CheckpointInfo, configuration: RunConfiguration, session: SessionState,
         metrics: String, environments: Data?, normalization: NormalizedVectorEnvironment.Statistics? = nil) {
        self.normalization = normalization
        self.agent = agent
        self.info = info
        // How many threads trained a run does not change its results, so it stays out of the
        // checkpoint: the same run gives the same bytes on any machine.
        var configuration = configuration
        configuration.threads = 0
        self.configuration = configuration
        self.session = session
        self.metrics = metrics
        self.environments = environments
    }

    /// The file's metadata: the agent's state and the run's, under `agentlab.`.
    package var metadata: [String: String] {
        var metadata = agent.state
        metadata[Self.formatKey] = Self.format
        metadata["agentlab.environment"] = info.environment
        metadata["agentlab.algorithm"] = info.algorithm
        metadata["agentlab.network"] = info.network
        metadata["agentlab.step"] = String(info.step)
        metadata["agentlab.seed"] = String(info.seed)
        metadata["agentlab.episodes"] = String(info.episodes)
        metadata["agentlab.version"] = info.version
        metadata["agentlab.configuration"] = configuration.flatMap { try? Self.json($0) }
        metadata["agentlab.session"] = session.flatMap { try? Self.json($0) }
        metadata["agentlab.metrics"] = metrics
        metadata["agentlab.normalization"] = normalization.flatMap { try? Self.json($0) }
        if let environments {
            let text = String(decoding: environments, as: UTF8.self)
            metadata["agentlab.environments"] = text
            metadata["agentlab.environments_hash"] = fnv1a64Hex(environments)
        }
        return metadata
    }

    /// Reads a checkpoint of format 2, checking every value before anything uses it.
    package init(tensors: [String: SafeTensors.Entry], metadata: [String: String], hash: String) throws(CheckpointError) {
        let own = metadata.filter { $0.key.hasPrefix("agentlab.") }
        guard own[Self.formatKey] == Self.format else {
            throw .valueOutOfRange(name: Self.formatKey, value: own[Self.formatKey] ?? "", expected: Self.format
                + " (this checkpoint was written by another version of AgentLab)")
        }
        func text(_ key: String, maxLength: Int = 1_000) throws(CheckpointError) -> String {
            guard let value = own["agentlab." + key], !value.isEmpty, value.utf8.count <= maxLength else {
                throw .valueOutOfRange(name: "agentlab." + key, value: own["agentlab." + key] ?? "missing",
                                       expected: "text of 1 to \(maxLength) bytes")
            }
            return value
        }
        let counters = AgentCheckpoint(state: own)
        info = CheckpointInfo(
            environment: try text("environment"), algorithm: try text("algorithm"), network: try text("network"),
            step: try counters.integer("agentlab.step"), seed: try Self.seed(own["agentlab.seed"]),
            episodes: try counters.integer("agentlab.episodes"), version: try text("version"), checkpointHash: hash)
        configuration = try Self.decoded(RunConfiguration.self, from: own["agentlab.configuration"], key: "configuration")
        session = try Self.decoded(SessionState.self, from: own["agentlab.session"], key: "session")
        metrics = own["agentlab.metrics"]
        if own["agentlab.normalization"] != nil {
            let statistics = try Self.decoded(NormalizedVectorEnvironment.Statistics.self, from: own["agentlab.normalization"],
                                              key: "normalization")
            // Sizes are checked against the environment where the statistics are used
            // (`Statistics.misfit(observationSize:)`); here only what no environment allows.
            let sizes = [statistics.observations?.elementCount, statistics.returns?.elementCount].compactMap { $0 }
            guard sizes.allSatisfy({ $0 <= 1 << 24 }), statistics.runningReturns.count <= 1 << 24 else {
                throw .valueOutOfRange(name: "agentlab.normalization", value: "statistics of \(sizes) elements",
                                       expected: "at most 16,777,216 elements")
            }
            normalization = statistics
        }
        if let text = own["agentlab.environments"] {
            let data = Data(text.utf8)
            guard own["agentlab.environments_hash"] == fnv1a64Hex(data) else {
                throw .valueOutOfRange(name: "agentlab.environments", value: "state of \(data.count) bytes",
                                       expected: "the state whose hash is agentlab.environments_hash (it was changed or damaged)")
            }
            environments = data
        }
        agent = AgentCheckpoint(tensors: tensors, state: metadata.filter { !$0.key.hasPrefix("agentlab.") })
        self.hash = hash
    }

    /// Reads a checkpoint of format 1, whose description is checkpoint.json, tied to the
    /// weights by their hash.
    package init(legacy agent: AgentCheckpoint, data: Data, summary: URL) throws(CheckpointError) {
        let hash = fnv1a64Hex(data)
        guard let json = try? Data(contentsOf: summary),
              let info = try? JSONDecoder().decode(CheckpointInfo.self, from: json)
        else {
            throw .unreadable(path: summary.path, reason: "a checkpoint of format 1 needs its checkpoint.json")
        }
        guard info.checkpointHash == hash else {
            throw .valueOutOfRange(name: "checkpoint_hash", value: info.checkpointHash ?? "none", expected: "\(hash), "
                + "the hash of checkpoint.safetensors (the two files are from different checkpoints)")
        }
        guard (0...AgentCheckpoint.maximumCounter).contains(info.step),
              (0...AgentCheckpoint.maximumCounter).contains(info.episodes) else {
            throw .valueOutOfRange(name: "step", value: "\(info.step)", expected: "a whole number of steps ≥ 0")
        }
        self.agent = agent
        self.info = info
        self.hash = hash
    }

    private static func seed(_ text: String?) throws(CheckpointError) -> UInt64 {
        guard let text, let seed = UInt64(text) else {
            throw .valueOutOfRange(name: "agentlab.seed", value: text ?? "missing", expected: "a whole number in 0...\(UInt64.max)")
        }
        return seed
    }

    private static func decoded<T: Decodable>(_ type: T.Type, from text: String?, key: String) throws(CheckpointError) -> T {
        guard let text, let value = try? jsonDecoder.decode(T.self, from: Data(text.utf8)) else {
            throw .valueOutOfRange(name: "agentlab." + key, value: text.map { "\($0.prefix(60))…" } ?? "missing",
                                   expected: "the JSON that AgentLab writes there")
        }
        return value
    }

    package static func json(_ value: some Encodable) throws -> String {
        String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
    }

    /// JSON with NaN and infinities as strings (a metric such as explained variance can be NaN).
    package static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    package static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}

/// What a training session carries from one log row to the next, saved with every
/// checkpoint so a resumed run writes the same rows as an uninterrupted one.
package struct SessionState: Codable, Equatable {
    /// Episodes finished since the run began.
    package var episodes = 0
    /// Returns and lengths of the episodes finished since the last row.
    package var pendingReturns: [Double] = []
    package var pendingLengths: [Double] = []
    /// The agent's metrics since the last row: their sums and counts.
    package var pendingMetrics: [String: MetricSum] = [:]
    /// The last 100 returns (the progress line's average).
    package var recentReturns: [Double] = []

    package struct MetricSum: Codable, Equatable {
        package var sum: Double
        package var count: Double
    }

    package enum CodingKeys: String, CodingKey {
        case episodes, pendingReturns = "pending_returns", pendingLengths = "pending_lengths"
        case pendingMetrics = "pending_metrics", recentReturns = "recent_returns"
    }
}
