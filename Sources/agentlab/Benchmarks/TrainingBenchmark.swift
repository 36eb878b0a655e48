import Agents
import Environments
import Foundation
import Parallelism
import Training

/// The `agentlab bench train` workloads: PPO on CartPole-v1 end to end with CleanRL's and
/// PureJaxRL's configuration (4 environments, 128 steps, 4 epochs of 4 minibatches, γ 0.99,
/// λ 0.95, clip 0.2, entropy 0.01, value 0.5, max gradient norm 0.5, learning rate 2.5e-4
/// annealed, 64-unit tanh networks, 500,000 steps): wall time and greedy return; and PPO on
/// Breakout-MinAtar with its preset for 1M steps on one thread and on every thread of the
/// worker pool, and the ratio.
enum TrainingBenchmark {
    static func cleanRLConfiguration() -> PPO.Configuration {
        var c = PPO.Configuration()  // PPO's defaults are CleanRL's
        c.stepsPerRollout = 128
        c.minibatches = 4
        c.epochs = 4
        c.network = NetworkConfiguration(hiddenSizes: [64, 64], activation: .tanh)
        return c
    }

    /// Seconds to train PPO with its Breakout-MinAtar preset for `steps` steps on `threads`
    /// threads (the metrics are the same for any count).
    static func breakoutSeconds(steps: Int, threads: Int) throws -> Double {
        WorkerPool.shared.setThreadCount(threads)
        let spec = try EnvironmentRegistry.standard.spec(id: "Breakout-MinAtar")
        let preset = try AlgorithmRegistry.standard.spec(named: "ppo").startingPoint(for: spec.id)
        let start = monotonicNanoseconds()
        let environments = makeVectorEnvironment(spec.makeEnvironment(), count: preset.copies)
        let agent = try AlgorithmRegistry.standard.spec(named: "ppo").makeAgent(preset.configuration, context: AgentContext(
            observationSpace: environments.observationSpace, actionCount: environments.actionSpace.width,
            copies: preset.copies, totalSteps: steps, seed: 0))
        try EnvironmentLoop(environments: environments, agent: agent, seed: 0).run(until: steps) { _ in }
        return Double(monotonicNanoseconds() - start) / 1e9
    }

    static func run(quick: Bool = false) throws -> [BenchmarkResult] {
        let threads = WorkerPool.shared.threadCount
        defer { WorkerPool.shared.setThreadCount(threads) }
        let steps = quick ? 5_120 : 500_000, copies = 4
        let spec = try EnvironmentRegistry.standard.spec(id: "CartPole-v1")
        let start = monotonicNanoseconds()
        let environments = makeVectorEnvironment(spec.makeEnvironment(), count: copies)
        let agent = try PPO(configuration: cleanRLConfiguration(), observationSpace: environments.observationSpace,
                            actionCount: environments.actionSpace.width, copies: copies, totalSteps: steps, seed: 0)
        let loop = EnvironmentLoop(environments: environments, agent: agent, seed: 0)
        try loop.run(until: steps) { _ in }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let episodes = try evaluate(agent, makeEnvironment: { spec.makeEnvironment() }, episodes: quick ? 5 : 100,
                                seed: 0)
        let greedy = episodes.reduce(0) { $0 + $1.episodeReturn } / Double(episodes.count)
        let breakoutSteps = quick ? 16_384 : 1_000_000
        let serial = try breakoutSeconds(steps: breakoutSteps, threads: 1)
        let parallel = try breakoutSeconds(steps: breakoutSteps, threads: threads)
        return [
            BenchmarkResult(suite: "train", name: "ppo_breakout_1_thread", unit: "s", value: serial, target: nil,
                            higherIsBetter: false, detail: "\(breakoutSteps) steps, the preset (64 envs × 128, 4 × 8 minibatches)"),
            BenchmarkResult(suite: "train", name: "ppo_breakout_\(threads)_threads", unit: "s", value: parallel, target: nil,
                            higherIsBetter: false, detail: "the same run on \(threads) threads (identical metrics)"),
            BenchmarkResult(suite: "train", name: "ppo_breakout_speedup", unit: "×", value: serial / parallel,
                            target: quick || threads < 2 ? nil : 1.8, higherIsBetter: true,
                            detail: "\(threads) threads over 1"),
            BenchmarkResult(suite: "train", name: "ppo_cartpole_cleanrl_wall", unit: "s", value: seconds,
                            target: nil, higherIsBetter: false,
                            detail: "\(steps) steps, 4 envs × 128, 4 epochs × 4 minibatches; JAX: 3.1 s + 3.3 s compile"),
            BenchmarkResult(suite: "train", name: "ppo_cartpole_cleanrl_return", unit: "return", value: greedy,
                            target: quick ? nil : 475, higherIsBetter: true,
                            detail: "greedy mean over \(episodes.count) episodes after training"),
        ]
    }
}
