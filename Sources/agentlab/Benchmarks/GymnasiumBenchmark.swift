import Environments
import Foundation
import Training

/// The `agentlab bench gymnasium` workloads: steps per second of Gymnasium environments
/// through the bridge, 8 copies, random actions, after 1,000 warm-up steps, over one worker
/// and over the default number (one per core). benchmarks/peers/gymnasium_vector.py times
/// Gymnasium's own SyncVectorEnv and AsyncVectorEnv on the same workload.
enum GymnasiumBenchmark {
    static let ids = ["CartPole-v1", "Acrobot-v1"]
    static let copies = 8

    static func run(quick: Bool = false) throws -> [BenchmarkResult] {
        if case .failure(let reason) = GymnasiumBridge.installedVersion() {
            printNote("gymnasium suite skipped: \(reason)")
            return []
        }
        var results: [BenchmarkResult] = []
        let rounds = quick ? 50 : 20_000
        let counts = Array(Set([1, GymnasiumBridge.workerCount(copies: copies)])).sorted()
        for id in ids {
            for workers in counts {
                let vector = try GymnasiumVectorEnvironment(id: id, count: copies, workers: workers)
                _ = EnvironmentBenchmark.vectorRate(vector, rounds: quick ? 10 : 1_000)  // warm-up
                let rate = EnvironmentBenchmark.vectorRate(vector, rounds: rounds)
                results.append(BenchmarkResult(
                    suite: "gymnasium", name: "gymnasium:\(id) ×\(copies)", unit: "k steps/s", value: rate / 1e3,
                    target: nil, higherIsBetter: true,
                    detail: "\(copies) copies over \(workers) worker\(workers == 1 ? "" : "s")"))
            }
        }
        return results
    }
}
