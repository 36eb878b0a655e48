import ArgumentParser
import Environments
import Foundation
import Sweeps
import Training
import Viewer

/// `agentlab compare`: learning curves of runs and sweeps side by side, mean and 95% band
/// over seeds, and a table of final returns with intervals.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Plot learning curves of runs and sweeps, mean and 95% band over seeds, and tabulate final returns.",
        discussion: """
            Each sweep folder gives one curve per configuration (its seeds); run folders are \
            grouped by their configuration apart from the seed, one curve per group. The band \
            is a 95% bootstrap interval of the mean over seeds at each logged step; the dashed \
            line is the environment's reward threshold. The table ranks the groups by the \
            interquartile mean of their final returns (the greedy evaluation where a run has \
            eval.json, as sweeps write, else the last logged value) with 95% stratified-bootstrap \
            intervals.

            Examples:
              agentlab compare runs/ppo-seed0 runs/ppo-seed1 runs/dqn-seed0 runs/dqn-seed1
              agentlab compare sweeps/ppo-cartpole --metric charts/episodic_length --out lengths.svg
            """)

    @Argument(help: "Run folders and sweep folders.")
    var folders: [String]

    @Option(help: "The metrics.csv column to plot.")
    var metric = "charts/episodic_return"

    @Option(help: ArgumentHelp("The SVG to write; a PNG is written beside it.", valueName: "file.svg"))
    var out = "comparison.svg"

    func validate() throws {
        guard !folders.isEmpty else { throw ValidationError("name at least one run or sweep folder") }
        guard folders.count <= 10_000 else { throw ValidationError("at most 10,000 folders can be compared, got \(folders.count)") }
        guard out.hasSuffix(".svg") else { throw ValidationError("--out must name an .svg file (the PNG goes beside it), got \(out)") }
    }

    /// Runs that share a configuration apart from the seed.
    struct Group {
        var label: String
        var environment: String
        var runs: [URL]
    }

    func run() throws {
        let groups = try collectGroups()
        var series: [Chart.Series] = []
        var finals: [(label: String, values: [Double], source: String)] = []
        for (g, group) in groups.enumerated() {
            let curves = try group.runs.map { try RunResults.curve(of: $0, metric: metric) }
            series.append(Self.series(group.label, curves: curves, seed: UInt64(g)))
            let evaluations = group.runs.compactMap { try? RunResults.evaluatedReturn(of: $0) }
            if evaluations.count == group.runs.count {
                finals.append((group.label, evaluations, "greedy eval"))
            } else {
                finals.append((group.label, curves.compactMap { $0.last?.value }, "last logged"))
            }
        }
        let environments = Set(groups.map(\.environment))
        var threshold: Chart.Threshold? = nil
        if metric == "charts/episodic_return", environments.count == 1,
           let spec = try? EnvironmentRegistry.standard.spec(id: environments.first!), let value = spec.rewardThreshold {
            threshold = Chart.Threshold(value: value, label: "solved (\(TrialTable.short(value)))")
        }
        let chart = Chart(title: environments.sorted().joined(separator: ", ") + ": " + metric, xLabel: "environment steps",
                          yLabel: metric, series: series, threshold: threshold)
        let svgURL = URL(fileURLWithPath: out).standardizedFileURL
        let pngURL = svgURL.deletingPathExtension().appendingPathExtension("png")
        try AtomicFile.write(Data(chart.svg().utf8), to: svgURL)
        do {
            let text = try TextRenderer()
            try PNGFile.write(chart.frame(text: text), to: pngURL.path)
        } catch {
            throw UsageError("cannot draw \(pngURL.path): \(error)")
        }

        var lines = "| curve | seeds | final IQM [95% CI] | final mean [95% CI] | from |\n|---|---|---|---|---|\n"
        let ranked = finals.enumerated().map { i, f in (f, Aggregate(f.values, seed: UInt64(i))) }
            .sorted { $0.1.interquartileMean > $1.1.interquartileMean }
        for (f, a) in ranked {
            lines += "| \(f.label) | \(a.count) | \(TrialTable.short(a.interquartileMean)) [\(TrialTable.short(a.interquartileMeanInterval.low)), "
                + "\(TrialTable.short(a.interquartileMeanInterval.high))] | \(TrialTable.short(a.mean)) [\(TrialTable.short(a.meanInterval.low)), "
                + "\(TrialTable.short(a.meanInterval.high))] | \(f.source) |\n"
        }
        print(lines)
        print("Wrote \(svgURL.path) and \(pngURL.path)")
    }

    /// Groups: one per sweep configuration, and run folders grouped by configuration.
    private func collectGroups() throws -> [Group] {
        var groups: [Group] = []
        var runGroups: [(key: String, configuration: RunConfiguration, runs: [URL])] = []
        for path in folders {
            let url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
            let spec = url.appendingPathComponent("spec.yaml"), trials = url.appendingPathComponent("trials.csv")
            if FileManager.default.fileExists(atPath: spec.path) && FileManager.default.fileExists(atPath: trials.path) {
                groups += try sweepGroups(url)
            } else {
                let configuration = try RunFolder(url.path).readConfiguration()
                var key = configuration
                key.seed = 0
                key.threads = 0
                let text = try TrainingSession.yaml(key)
                if let i = runGroups.firstIndex(where: { $0.key == text }) {
                    runGroups[i].runs.append(url)
                } else {
                    runGroups.append((text, configuration, [url]))
                }
            }
        }
        // Label each group by its algorithm and the settings in which the groups differ.
        let flat = try runGroups.map { group -> [String: String] in
            var key = group.configuration
            key.seed = 0
            key.threads = 0
            return Dictionary(try ConfigurationValue(encoding: key).flattened().map { ($0.key, $0.value) },
                              uniquingKeysWith: { a, _ in a })
        }
        // Keys every group has (an algorithm's own section only counts against its own kind).
        let shared = flat.dropFirst().reduce(Set(flat.first?.keys ?? [:].keys)) { $0.intersection($1.keys) }
        let differing = shared.filter { key in Set(flat.map { $0[key] ?? "" }).count > 1 }
            .subtracting(["algorithm", "environment", "checkpoint_interval", "save_replay"]).sorted()
        let environmentsDiffer = Set(runGroups.map(\.configuration.environment)).count > 1
        for (i, group) in runGroups.enumerated() {
            var label = group.configuration.algorithm
            if environmentsDiffer { label += " on \(group.configuration.environment)" }
            let settings = differing.prefix(3).map { "\($0.split(separator: ".").last!)=\(flat[i][$0] ?? "-")" }
            if !settings.isEmpty { label += " " + settings.joined(separator: " ") + (differing.count > 3 ? " …" : "") }
            groups.append(Group(label: label, environment: group.configuration.environment, runs: group.runs))
        }
        guard !groups.isEmpty else { throw UsageError("no finished runs to compare in \(folders.joined(separator: ", "))") }
        return groups
    }

    /// One group per configuration of a sweep with a finished trial.
    private func sweepGroups(_ folder: URL) throws -> [Group] {
        let specFile = folder.appendingPathComponent("spec.yaml").path
        let spec = try SweepSpec.parse(yaml: ConfigurationValue.readText(of: specFile), file: specFile)
        let rows = try CSV.rows(SweepCommand.readText(folder.appendingPathComponent("trials.csv"), limit: CSV.maximumSize),
                                name: folder.appendingPathComponent("trials.csv").path)
        guard let header = rows.first, let c = header.firstIndex(of: "configuration"), let s = header.firstIndex(of: "status"),
              let r = header.firstIndex(of: "run_folder") else {
            throw UsageError("\(folder.path)/trials.csv lacks the configuration, status or run_folder column")
        }
        var byConfiguration: [Int: (label: String, runs: [URL])] = [:]
        for row in rows.dropFirst() where row[s] == TrialStatus.done.rawValue {
            guard let configuration = Int(row[c]), !row[r].contains("..") else { continue }
            let settings = spec.space.keys.compactMap { key in header.firstIndex(of: key).map { "\(key.split(separator: ".").last!)=\(row[$0])" } }
            let label = String(format: "%@ c%03d %@", folder.lastPathComponent, configuration, settings.joined(separator: " "))
            byConfiguration[configuration, default: (label, [])].runs.append(folder.appendingPathComponent(row[r]))
        }
        let environment = (try? spec.configuration(spec.space.parameters.map { $0.domain.extremes[0] }, seed: 0).environment) ?? ""
        return byConfiguration.keys.sorted().map { Group(label: byConfiguration[$0]!.label, environment: environment, runs: byConfiguration[$0]!.runs) }
    }

    /// The mean over runs with a 95% bootstrap band, at every step any run logged between
    /// the latest first step and the earliest last step. A run counts with its last value
    /// at or before each step (a log interval in which no episode ended has no value).
    static func series(_ label: String, curves: [[(step: Double, value: Double)]], seed: UInt64) -> Chart.Series {
        let nonEmpty = curves.filter { !$0.isEmpty }
        let start = nonEmpty.map { $0[0].step }.max() ?? 0, end = nonEmpty.map { $0[$0.count - 1].step }.min() ?? 0
        let steps = Set(nonEmpty.flatMap { $0.map(\.step) }).filter { $0 >= start && $0 <= end }.sorted()
        var positions = [Int](repeating: 0, count: nonEmpty.count)
        var mean: [Double] = [], lower: [Double] = [], upper: [Double] = []
        for (i, step) in steps.enumerated() {
            let values = nonEmpty.indices.map { r -> Double in
                while positions[r] + 1 < nonEmpty[r].count && nonEmpty[r][positions[r] + 1].step <= step { positions[r] += 1 }
                return nonEmpty[r][positions[r]].value
            }
            mean.append(SeedStatistics.mean(values))
            let band = SeedStatistics.bootstrapInterval([values], statistic: SeedStatistics.mean, resamples: 1_000,
                                                        seed: seed &* 1_000_003 &+ UInt64(i))
            lower.append(band.low)
            upper.append(band.high)
        }
        return Chart.Series(name: "\(label) (\(curves.count) seed\(curves.count == 1 ? "" : "s"))", x: steps, mean: mean,
                            lower: nonEmpty.count > 1 ? lower : nil, upper: nonEmpty.count > 1 ? upper : nil)
    }
}
