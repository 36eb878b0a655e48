import Agents
import Environments
import Foundation

/// The `agentlab bench train` workload: PPO on CartPole-v1 end to end with CleanRL's and
/// PureJaxRL's configuration (4 environments, 128 steps, 4 epochs of 4 minibatches, γ 0.99,
/// λ 0.95, clip 0.2, entropy 0.01, value 0.5, max gradient norm 0.5, learning rate 2.5e-4
/// annealed, 64-unit tanh networks, 500,000 steps): wall time and greedy return.
enum TrainingBenchmark {
    static func cleanRLConfiguration() -> PPO.Configuration {
        var c = PPO.Configuration()  // PPO's defaults are CleanRL's
        c.stepsPerRollout = 128
        c.minibatches = 4
        c.epochs = 4
        c.network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .tanh)
        return c
    }

    static func run(quick: Bool = false) throws -> [BenchmarkResult] {
        let steps = quick ? 5_120 : 500_000, copies = 4
        let spec = try EnvironmentRegistry.standard.spec(id: "CartPole-v1")
        let start = monotonicNanoseconds()
        let environments = makeVectorEnvironment(spec.makeEnvironment(), count: copies)
        let agent = try PPO(configuration: cleanRLConfiguration(), observationSpace: environments.observationSpace,
                            actionCount: environments.actionSpace.count, copies: copies, totalSteps: steps, seed: 0)
        let loop = EnvironmentLoop(environments: environments, agent: agent, seed: 0)
        try loop.run(until: steps) { _ in }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let episodes = try evaluate(agent, makeEnvironment: { spec.makeEnvironment() }, episodes: quick ? 5 : 100,
                                seed: 0)
        let greedy = episodes.reduce(0) { $0 + $1.episodeReturn } / Double(episodes.count)
        return [
            BenchmarkResult(suite: "train", name: "ppo_cartpole_cleanrl_wall", unit: "s", value: seconds,
                            target: nil, higherIsBetter: false,
                            detail: "\(steps) steps, 4 envs × 128, 4 epochs × 4 minibatches; JAX: 3.1 s + 3.3 s compile"),
            BenchmarkResult(suite: "train", name: "ppo_cartpole_cleanrl_return", unit: "return", value: greedy,
                            target: quick ? nil : 475, higherIsBetter: true,
                            detail: "greedy mean over \(episodes.count) episodes after training"),
        ]
    }
}
