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
                ppo.gamma = 0.99
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
        default:
            break
        }
        return c
    }

    /// Groups of environments that share hyper-parameters.
    enum Family {
        case cartPole, gridWorld, minAtar, other

        init(_ id: String) {
            if id.hasPrefix("CartPole") { self = .cartPole }
            else if id.hasPrefix("GridWorld") { self = .gridWorld }
            else if id.hasSuffix("-MinAtar") { self = .minAtar }
            else { self = .other }
        }
    }
}
