import Agents
import Foundation

/// Everything that defines a training run: written fully resolved to the run folder's
/// `config.yaml`, read back by `--resume`, `eval` and `watch`. Keys are snake_case in YAML.
struct RunConfiguration: Codable, Equatable {
    /// The environment id (`agentlab envs` lists them).
    var environment = "CartPole-v1"
    /// The algorithm: ppo, dqn, a2c or reinforce.
    var algorithm = "ppo"
    /// Environment steps to train for, over all copies.
    var steps = 500_000
    /// Seed of the networks, the environments and every random choice.
    var seed: UInt64 = 0
    /// Environment copies stepped together.
    var environments = 4
    /// Environment steps between checkpoints (one is always written at the end).
    var checkpointInterval = 100_000
    /// Include DQN's replay buffer in checkpoints, so a resumed run keeps its experience
    /// (large: observations × buffer size × 8 bytes).
    var saveReplay = false
    /// Algorithm settings; only the chosen algorithm's section is used (and written).
    var ppo: PPO.Configuration?
    var dqn: DQN.Configuration?
    var a2c: A2C.Configuration?
    var reinforce: REINFORCE.Configuration?

    enum CodingKeys: String, CodingKey {
        case environment, algorithm, steps, seed, environments
        case checkpointInterval = "checkpoint_interval", saveReplay = "save_replay"
        case ppo, dqn, a2c, reinforce
    }

    static let algorithms = ["ppo", "dqn", "a2c", "reinforce"]

    /// Keys that a configuration may hold although the preset leaves them out (settings
    /// whose default is "none").
    static let optionalKeys: Set<String> = ["target_kl", "max_gradient_norm"]

    func validate() throws(TrainingError) {
        func require(_ ok: Bool, _ message: String) throws(TrainingError) {
            if !ok { throw .invalidConfiguration(message) }
        }
        try require(Self.algorithms.contains(algorithm),
                    "unknown algorithm '\(algorithm)'; known algorithms: \(Self.algorithms.joined(separator: ", "))")
        try require(steps > 0, "steps must be positive, got \(steps)")
        try require(environments > 0 && environments <= 4096, "environments must be in 1...4096, got \(environments)")
        try require(checkpointInterval > 0, "checkpoint_interval must be positive, got \(checkpointInterval)")
        switch algorithm {
        case "ppo": try (ppo ?? .init()).validate(copies: environments)
        case "dqn": try (dqn ?? .init()).validate()
        case "a2c": try (a2c ?? .init()).validate()
        case "reinforce": try (reinforce ?? .init()).validate()
        default: break
        }
    }
}

/// Builds the agent a configuration names: the only place that wires algorithm names to
/// agent types.
func makeAgent(
    _ configuration: RunConfiguration, observationSpace: Box, actionCount: Int
) throws(TrainingError) -> any Agent {
    let (copies, steps, seed) = (configuration.environments, configuration.steps, configuration.seed)
    switch configuration.algorithm {
    case "ppo":
        return try PPO(configuration: configuration.ppo ?? .init(), observationSpace: observationSpace,
                       actionCount: actionCount, copies: copies, totalSteps: steps, seed: seed)
    case "dqn":
        let agent = try DQN(configuration: configuration.dqn ?? .init(), observationSpace: observationSpace,
                            actionCount: actionCount, totalSteps: steps, seed: seed)
        agent.includesReplayInCheckpoint = configuration.saveReplay
        return agent
    case "a2c":
        return try A2C(configuration: configuration.a2c ?? .init(), observationSpace: observationSpace,
                       actionCount: actionCount, copies: copies, totalSteps: steps, seed: seed)
    case "reinforce":
        return try REINFORCE(configuration: configuration.reinforce ?? .init(), observationSpace: observationSpace,
                             actionCount: actionCount, copies: copies, totalSteps: steps, seed: seed)
    default:
        throw .invalidConfiguration("unknown algorithm '\(configuration.algorithm)'; known algorithms: "
            + RunConfiguration.algorithms.joined(separator: ", "))
    }
}
