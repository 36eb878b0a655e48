import Agents
import ArgumentParser
import Environments
import Foundation
import Training

/// `agentlab eval`: the headless gate for CI.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate trained runs headless and pass or fail them against a minimum return.",
        discussion: """
            Plays --episodes seeded episodes of each run's checkpoint (greedy unless --stochastic), \
            in parallel over the machine's cores with the same results whatever their number, and \
            prints mean ± standard deviation, median, minimum and maximum of the return and the \
            episode length. A run passes when its mean return is at least --min-return (default: \
            the environment's reward threshold; a run whose environment has none always passes). \
            An episode still running after --max-steps steps is stopped there and counted as cut \
            short; an environment that fails during an episode stops the command with status 2.

            Exit status: 0 when every run passes, 1 when any falls short, 2 for a usage error or a \
            missing, corrupt or mismatched checkpoint.

            Example (a CI gate):
              agentlab eval runs/cartpole --min-return 475 --junit eval.xml --json eval.json
            """)

    @Argument(help: "Run folders written by `agentlab train`.")
    var runs: [String]

    @Option(help: ArgumentHelp("Play on this environment instead of the one the run trained on (same observation and action spaces), e.g. gymnasium:CartPole-v1.", valueName: "id"))
    var env: String?

    @Option(help: "Episodes per run.")
    var episodes = 100

    @Option(help: "Stop an episode after this many steps (it counts as cut short); the default is beyond every built-in time limit.")
    var maxSteps = defaultEvaluationStepLimit

    @Option(help: "Seed of the episodes (episode i uses a seed derived from it and i).")
    var seed: UInt64 = 0

    @Flag(help: "Sample actions from the policy (DQN: ε-greedy with ε = 0.05) instead of acting greedily.")
    var stochastic = false

    @Option(parsing: .unconditional, help: "Pass threshold on the mean return (default: the environment's reward threshold; negative values work: --min-return -13).")
    var minReturn: Double?

    @Flag(help: "Report only: no pass threshold, exit 0 whatever the returns (sweeps score trials this way).")
    var noThreshold = false

    @Option(help: "Write the full report as JSON to this file (- for standard output).")
    var json: String?

    @Option(help: "Threads to play episodes on (default: every core); the results are the same for any number.")
    var threads: Int?

    @Option(help: "Write a JUnit XML report (one test case per run) to this file (- for standard output).")
    var junit: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run folder") }
        guard episodes > 0 else { throw ValidationError("--episodes must be positive, got \(episodes)") }
        if let threads { try ThreadCount.check(threads) }
        guard maxSteps > 0 else { throw ValidationError("--max-steps must be positive, got \(maxSteps)") }
        guard episodes <= Self.maximumEpisodes else {
            throw ValidationError("--episodes must be at most \(Self.maximumEpisodes), got \(episodes)")
        }
        if noThreshold && minReturn != nil { throw ValidationError("--no-threshold and --min-return contradict each other; give one") }
        if let minReturn, !minReturn.isFinite { throw ValidationError("--min-return must be a finite number, got \(minReturn)") }
        if json == "-" && junit == "-" { throw ValidationError("--json and --junit cannot both write to standard output") }
    }

    /// The most episodes one evaluation plays (their results are kept in memory).
    static let maximumEpisodes = 1_000_000

    func run() throws {
        // Check the outputs and load every run first: a bad one stops the command before any evaluation.
        let jsonOutput = try json.map { try OutputFile(option: "--json", path: $0) }
        let junitOutput = try junit.map { try OutputFile(option: "--junit", path: $0) }
        var loaded: [TrainedRun] = []
        for path in runs {
            do { loaded.append(try TrainedRun(path, environment: env)) } catch { throw UsageError(error.description) }
        }
        ThreadCount.apply(threads)
        var reports: [EvaluationReport] = []
        for run in loaded {
            let spec = run.spec
            let start = monotonicNanoseconds()
            let results: [EpisodeRecord]
            do {
                results = try evaluate(run.agent, makeEnvironment: run.environmentFactory, episodes: episodes,
                                       seed: seed, stochastic: stochastic, maxSteps: maxSteps)
            } catch {
                throw UsageError("\(run.folder.path): \(error.description)")
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            let report = EvaluationReport(run: run, episodes: results, seed: seed, stochastic: stochastic,
                                          minimumReturn: noThreshold ? nil : minReturn ?? spec.rewardThreshold, seconds: seconds)
            // With a report on standard output, the summary goes to standard error.
            if json == "-" || junit == "-" {
                FileHandle.standardError.write(Data((report.summary + "\n").utf8))
            } else {
                print(report.summary)
            }
            reports.append(report)
        }
        if let jsonOutput {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try jsonOutput.write(try encoder.encode(reports) + Data("\n".utf8))
        }
        try junitOutput?.write(Data(EvaluationReport.junit(reports).utf8))
        if reports.contains(where: { !$0.passed }) { throw ExitCode.failure }
    }
}

/// Summary statistics of a list of numbers.
struct Statistics: Codable, Equatable {
    var mean: Double
    /// Population standard deviation (as NumPy's default and SB3's evaluate_policy).
    var standardDeviation: Double
    var median: Double
    var minimum: Double
    var maximum: Double

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "statistics of no values")
        let n = Double(values.count)
        mean = values.reduce(0, +) / n
        let m = mean
        standardDeviation = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        let sorted = values.sorted()
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        minimum = sorted.first!
        maximum = sorted.last!
    }

    enum CodingKeys: String, CodingKey {
        case mean, standardDeviation = "std", median, minimum = "min", maximum = "max"
    }
}

/// One run's evaluation: what `eval` prints, and writes as JSON and JUnit.
struct EvaluationReport: Codable {
    var run: String
    var environment: String
    var algorithm: String
    var checkpointStep: Int
    var checkpointHash: String
    var episodes: Int
    var seed: UInt64
    var stochastic: Bool
    var minimumReturn: Double?
    var passed: Bool
    var returns: Statistics
    var lengths: Statistics
    var episodeReturns: [Double]
    var episodeLengths: [Int]
    /// Episodes stopped at --max-steps before they ended.
    var episodesCutShort: Int
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case run, environment, algorithm, episodes, seed, stochastic, passed, returns, lengths, seconds
        case checkpointStep = "checkpoint_step", checkpointHash = "checkpoint_hash"
        case minimumReturn = "min_return", episodeReturns = "episode_returns", episodeLengths = "episode_lengths"
        case episodesCutShort = "episodes_cut_short"
    }

    init(run: TrainedRun, episodes results: [EpisodeRecord], seed: UInt64, stochastic: Bool,
         minimumReturn: Double?, seconds: Double) {
        self.run = run.folder.path
        environment = run.spec.id
        algorithm = run.configuration.algorithm
        checkpointStep = run.info.step
        checkpointHash = run.checkpointHash
        episodes = results.count
        self.seed = seed
        self.stochastic = stochastic
        self.minimumReturn = minimumReturn
        episodeReturns = results.map(\.episodeReturn)
        episodeLengths = results.map(\.length)
        episodesCutShort = results.filter { $0.ending == .cutShort }.count
        let returns = Statistics(episodeReturns)
        self.returns = returns
        lengths = Statistics(episodeLengths.map(Double.init))
        passed = minimumReturn.map { returns.mean >= $0 } ?? true
        self.seconds = seconds
    }

    private func f(_ v: Double) -> String { String(format: "%.2f", v) }

    var verdict: String {
        guard let minimumReturn else { return "PASS (no minimum return to meet)" }
        return passed ? "PASS (mean \(f(returns.mean)) ≥ \(f(minimumReturn)))"
                      : "FAIL (mean \(f(returns.mean)) < \(f(minimumReturn)))"
    }

    private var cutShortNote: String {
        episodesCutShort == 0 ? "" : "\n  \(episodesCutShort) of \(episodes) episodes were cut short at --max-steps"
    }

    var summary: String {
        """
        \(run): \(algorithm) on \(environment), checkpoint at step \(checkpointStep), \(episodes) \
        \(stochastic ? "stochastic" : "greedy") episodes (seed \(seed)) in \(String(format: "%.2f", seconds)) s
          return  \(f(returns.mean)) ± \(f(returns.standardDeviation))  median \(f(returns.median))  min \(f(returns.minimum))  max \(f(returns.maximum))
          length  \(f(lengths.mean)) ± \(f(lengths.standardDeviation))  median \(f(lengths.median))  min \(f(lengths.minimum))  max \(f(lengths.maximum))\(cutShortNote)
          \(verdict)
        """
    }

    /// JUnit XML: one test suite, one test case per run, a failure element when it falls short.
    static func junit(_ reports: [EvaluationReport]) -> String {
        let failures = reports.filter { !$0.passed }.count
        let time = reports.reduce(0) { $0 + $1.seconds }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites tests=\"\(reports.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", time))\">\n"
        xml += "  <testsuite name=\"agentlab eval\" tests=\"\(reports.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(String(format: "%.3f", time))\">\n"
        for r in reports {
            xml += "    <testcase classname=\"agentlab.eval.\(xmlEscape(r.environment))\" name=\"\(xmlEscape(r.run))\" time=\"\(String(format: "%.3f", r.seconds))\">\n"
            if !r.passed {
                xml += "      <failure message=\"\(xmlEscape(r.verdict))\" type=\"MinimumReturn\">\(xmlEscape(r.summary))</failure>\n"
            }
            xml += "      <system-out>\(xmlEscape(r.summary))</system-out>\n"
            xml += "    </testcase>\n"
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }
}

func xmlEscape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
