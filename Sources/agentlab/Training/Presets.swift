import Agents

/// Tuned configurations shipped with the tool, one per algorithm and environment (the way
/// rl-baselines3-zoo ships its hyper-parameters). `agentlab presets` prints them; a config
/// file and flags override them.
enum Presets {
    /// The preset for `algorithm` on `environment`: the algorithm's defaults adjusted for
    /// that environment family.
    static func configuration(algorithm: String, environment: String) -> RunConfiguration {
        var c = RunConfiguration()
        c.environment = environment
        c.algorithm = algorithm
        let family = Family(environment)
        switch algorithm {
        case "ppo":
            var ppo = PPO.Configuration()
            switch family {
            case .cartPole:
                // rl-baselines3-zoo's CartPole-v1 settings: 8 copies, short rollouts, many epochs.
                c.environments = 8
                c.steps = 100_000
                ppo.stepsPerRollout = 32
                ppo.minibatches = 1
                ppo.epochs = 20
                ppo.gamma = 0.98
                ppo.gaeLambda = 0.8
                ppo.entropyCoefficient = 0
                ppo.learningRate = 1e-3
            case .gridWorld:
                c.environments = 8
                c.steps = 100_000
                ppo.stepsPerRollout = 64
                ppo.learningRate = 1e-3
            case .cliff:
                // A strong entropy bonus, or the agent settles for standing still (−200);
                // measured: −13 (optimal) greedy on seeds 0, 1, 2.
                c.environments = 8
                c.steps = 300_000
                ppo.stepsPerRollout = 64
                ppo.learningRate = 1e-3
                ppo.entropyCoefficient = 0.2
            case .minAtar:
                // PureJaxRL's MinAtar setting: 64 copies, 128 steps, 4 epochs of 8 minibatches.
                c.environments = 64
                c.steps = 5_000_000
                c.checkpointInterval = 500_000
                ppo.stepsPerRollout = 128
                ppo.minibatches = 8
                ppo.learningRate = 5e-3
                ppo.network = NetworkConfiguration(hiddenSizes: [], activation: .relu,
                                                   convolutionFilters: 16, convolutionDenseSize: 128)
            case .other:
                break
            }
            c.ppo = ppo
        case "dqn":
            var dqn = DQN.Configuration()
            c.environments = 1
            switch family {
            case .cartPole:
                dqn = .cartPole
                c.steps = 100_000
            case .gridWorld, .cliff:
                c.steps = family == .cliff ? 50_000 : 20_000
                dqn.learningRate = 1e-3
                dqn.bufferSize = 10_000
                dqn.learningStarts = 500
                dqn.trainFrequency = 1
                dqn.batchSize = 64
                dqn.targetUpdateInterval = 250
                dqn.exploration = LinearSchedule(start: 1, end: 0.05, fraction: 0.3)
                dqn.network = NetworkConfiguration(hiddenSizes: [64], activation: .relu)
            case .minAtar:
                // The MinAtar paper's DQN, with Adam instead of RMSprop.
                c.steps = 5_000_000
                c.checkpointInterval = 500_000
                dqn.learningRate = 1e-4
                dqn.bufferSize = 100_000
                dqn.learningStarts = 5_000
                dqn.trainFrequency = 1
                dqn.batchSize = 32
                dqn.targetUpdateInterval = 1_000
                dqn.exploration = LinearSchedule(start: 1, end: 0.1, fraction: 0.02)
            case .other: break
            }
            c.dqn = dqn
        case "a2c":
            // SB3's defaults; rl-baselines3-zoo's settings for the arcade games.
            var a2c = A2C.Configuration()
            c.environments = 8
            switch family {
            case .cartPole: c.steps = 500_000
            case .gridWorld: c.steps = 50_000
            case .cliff:
                c.steps = 300_000
                a2c.entropyCoefficient = 0.05  // without it the agent learns to stand still
            case .minAtar:
                c.environments = 16
                c.steps = 5_000_000
                c.checkpointInterval = 500_000
                a2c.entropyCoefficient = 0.01
                a2c.valueCoefficient = 0.25
            case .other: break
            }
            c.a2c = a2c
        case "reinforce":
            var reinforce = REINFORCE.Configuration()
            c.environments = 8
            switch family {
            case .cartPole: c.steps = 1_000_000
            case .gridWorld: c.steps = 50_000
            case .cliff:
                c.steps = 1_000_000
                reinforce.entropyCoefficient = 0.2
            case .minAtar:
                c.environments = 16
                c.steps = 5_000_000
                c.checkpointInterval = 500_000
                reinforce.entropyCoefficient = 0.01
            case .other: break
            }
            c.reinforce = reinforce
        default:
            break
        }
        if family == .gridWorld || family == .cliff { c.checkpointInterval = max(c.steps / 4, 10_000) }
        return c
    }

    /// The algorithm settings in which `preset` differs from the algorithm's defaults, as
    /// `key=value` pairs.
    static func differences(_ preset: RunConfiguration) throws -> String {
        var defaults = preset
        defaults.ppo = preset.ppo.map { _ in PPO.Configuration() }
        defaults.dqn = preset.dqn.map { _ in DQN.Configuration() }
        defaults.a2c = preset.a2c.map { _ in A2C.Configuration() }
        defaults.reinforce = preset.reinforce.map { _ in REINFORCE.Configuration() }
        guard case .object(let mine) = try ConfigurationValue(encoding: preset),
              case .object(let base) = try ConfigurationValue(encoding: defaults),
              case .object(let section)? = mine[preset.algorithm],
              case .object(let baseSection)? = base[preset.algorithm]
        else { return "" }
        return section.keys.sorted().compactMap { key in
            section[key] == baseSection[key] ? nil : "\(key)=\(section[key]!.yaml().trimmingCharacters(in: .whitespacesAndNewlines))"
        }.joined(separator: " ")
    }

    /// Groups of environments that share hyper-parameters.
    enum Family {
        case cartPole, gridWorld, cliff, minAtar, other

        init(_ id: String) {
            if id.hasPrefix("CartPole") { self = .cartPole }
            else if id.hasPrefix("GridWorld-Cliff") { self = .cliff }
            else if id.hasPrefix("GridWorld") { self = .gridWorld }
            else if id.hasSuffix("-MinAtar") { self = .minAtar }
            else { self = .other }
        }
    }
}
