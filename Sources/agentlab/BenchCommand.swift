import ArgumentParser
import Autodiff
import Foundation
import Parallelism
import Training

/// `agentlab bench`: measures speed, release builds only.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of the neural-network core and the environments.",
        discussion: """
            Suites: nn (one Adam training step of the agents' networks, sgemm, memory), \
            envs (steps per second of every environment, one copy and 1,024 copies), \
            train (PPO on CartPole-v1 end to end with CleanRL's configuration), \
            gymnasium (Gymnasium's CartPole-v1 and Acrobot-v1 through the bridge, 8 copies, over one \
            worker and one per core; needs Python with gymnasium). With no suite named, nn, envs and \
            train run. Build with `swift build -c release` first: \
            a debug build is 10 to 100 times slower.
            """)

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case nn, envs, train, gymnasium
    }

    @Argument(help: "Suites to run (nn, envs, train, gymnasium); nn, envs and train when none is named (gymnasium needs Python).")
    var suites: [Suite] = []

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    @Flag(help: "Short runs, for a smoke test; figures are not meaningful.")
    var quick = false

    @Option(help: "Threads for the parallel figures (default: every core); single-thread figures stay on one.")
    var threads: Int?

    func validate() throws {
        if let threads { try ThreadCount.check(threads) }
    }

    func run() throws {
        #if DEBUG
        printNote("warning: this is a debug build; build with -c release for meaningful figures")
        #endif
        if let warning = BLASKernels.slowKernelWarning() { printNote(warning) }
        ThreadCount.apply(threads)
        printNote("OpenBLAS kernels: \(BLASKernels.coreName); worker pool: \(WorkerPool.shared.threadCount) threads")
        let chosen = suites.isEmpty ? [.nn, .envs, .train] : suites
        var results: [BenchmarkResult] = []
        for suite in chosen {
            let suiteResults: [BenchmarkResult]
            switch suite {
            case .nn: suiteResults = NeuralNetBenchmark.run(quick: quick)
            case .envs: suiteResults = EnvironmentBenchmark.run(quick: quick)
            case .train: suiteResults = try TrainingBenchmark.run(quick: quick)
            case .gymnasium: suiteResults = try GymnasiumBenchmark.run(quick: quick)
            }
            print(BenchmarkResult.table(suiteResults, title: suite.rawValue))
            print()
            results += suiteResults
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = BenchmarkReport(results: results)
            do {
                try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                throw UsageError("cannot write \(json): \(error.localizedDescription)")
            }
        }
    }
}

/// One measured figure.
struct BenchmarkResult: Codable, Sendable {
    var suite: String
    var name: String
    var unit: String
    var value: Double
    /// The figure the project aims for, when there is one.
    var target: Double?
    /// Whether larger is better (throughput) rather than smaller (time, memory).
    var higherIsBetter: Bool
    var detail: String?

    var meetsTarget: Bool? {
        target.map { higherIsBetter ? value >= $0 : value <= $0 }
    }

    static func table(_ results: [BenchmarkResult], title: String) -> String {
        var rows = [["\(title)", "value", "unit", "target", "", "what"]]
        for r in results {
            rows.append([
                r.name, r.value.formatted(significantDigits: 4), r.unit,
                r.target.map { (r.higherIsBetter ? "≥ " : "≤ ") + $0.formatted(significantDigits: 4) } ?? "",
                r.meetsTarget.map { $0 ? "ok" : "MISSED" } ?? "",
                r.detail ?? "",
            ])
        }
        return Table(rows: rows).rendered
    }
}

/// The JSON file `bench --json` writes.
struct BenchmarkReport: Codable {
    var results: [BenchmarkResult]
    var date = ISO8601DateFormatter().string(from: Date())
    var processors = ProcessInfo.processInfo.activeProcessorCount
}
