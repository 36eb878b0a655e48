import Foundation

/// Where a trial stands.
public enum TrialStatus: String, Sendable, CaseIterable {
    /// Not started yet.
    case pending
    /// Started; a stopped or killed sweep resumes it from its checkpoint.
    case running
    /// Trained and scored.
    case done
    /// Failed twice; `reason` says why.
    case failed
}

/// One training run of a sweep: configuration `configuration` with seed `seed`.
public struct Trial: Equatable, Sendable {
    public let configuration: Int
    public let seed: Int
    public let assignment: Assignment
    public var status: TrialStatus = .pending
    /// The objective (the greedy return after training, or the learning curve's mean).
    public var objective: Double? = nil
    /// Seconds spent training and scoring, over every attempt.
    public var wallSeconds: Double = 0
    /// Why it failed, for a failed trial.
    public var reason: String = ""

    public init(configuration: Int, seed: Int, assignment: Assignment) {
        self.configuration = configuration
        self.seed = seed
        self.assignment = assignment
    }

    /// `c003-s1`: configuration 3, seed 1; also the name of its run folder.
    public var id: String { String(format: "c%03d-s%d", configuration, seed) }

    /// The run folder, relative to the sweep folder.
    public var runFolder: String { "trials/\(id)" }
}

/// What trials.csv records of a trial, which a resumed sweep keeps.
public typealias RecordedTrial = (status: TrialStatus, objective: Double?, wallSeconds: Double, reason: String)

/// The sweep's tables: `trials.csv` (one row per trial) and `summary.csv` (one row per
/// configuration, ranked).
public enum TrialTable {
    /// trials.csv's text. The columns after `seed` are the searched keys.
    public static func trialsCSV(_ trials: [Trial], keys: [String]) -> String {
        let header = ["trial", "configuration", "seed"] + keys + ["status", "objective", "wall_seconds", "run_folder", "reason"]
        let rows = trials.map { t in
            [t.id, String(t.configuration), String(t.seed)] + t.assignment.map(\.description)
                + [t.status.rawValue, t.objective.map { "\($0)" } ?? "", String(format: "%.1f", t.wallSeconds), t.runFolder, t.reason]
        }
        return CSV.text(header: header, rows: rows)
    }

    /// The status, objective, time and reason of each trial in a trials.csv, by trial id
    /// (what a resumed sweep keeps).
    public static func readTrials(_ text: String, name: String) throws(CSVError) -> [String: RecordedTrial] {
        let rows = try CSV.rows(text, name: name)
        guard let header = rows.first else { return [:] }
        func column(_ key: String) throws(CSVError) -> Int {
            guard let i = header.firstIndex(of: key) else { throw .malformed(name, "it has no column '\(key)'") }
            return i
        }
        let (id, status, objective, wall, reason) = try (column("trial"), column("status"), column("objective"),
                                                         column("wall_seconds"), column("reason"))
        var result: [String: RecordedTrial] = [:]
        for (line, row) in rows.dropFirst().enumerated() {
            guard let s = TrialStatus(rawValue: row[status]) else {
                throw .malformed(name, "line \(line + 2): status '\(row[status])' is not one of \(TrialStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let value = row[objective].isEmpty ? nil : Double(row[objective])
            if !row[objective].isEmpty && (value == nil || !value!.isFinite) {
                throw .malformed(name, "line \(line + 2): objective '\(row[objective])' is not a finite number")
            }
            guard let seconds = Double(row[wall]), seconds.isFinite, seconds >= 0 else {
                throw .malformed(name, "line \(line + 2): wall_seconds '\(row[wall])' is not a time in seconds")
            }
            result[row[id]] = (s, value, seconds, row[reason])
        }
        return result
    }

    /// One configuration's line of the summary.
    public struct Row: Equatable, Sendable {
        public let configuration: Int
        public let assignment: Assignment
        /// Seeds that finished (failed ones are left out and counted in `failed`).
        public let aggregate: Aggregate
        public let failed: Int
    }

    /// Every configuration with at least one finished seed, ranked best first by the
    /// interquartile mean of its objective, then its mean, then its number.
    public static func summary(_ trials: [Trial], seed: UInt64 = 0) -> [Row] {
        let groups = Dictionary(grouping: trials, by: \.configuration)
        let rows = groups.keys.sorted().compactMap { configuration -> Row? in
            let group = groups[configuration]!
            let values = group.compactMap { $0.status == .done ? $0.objective : nil }
            guard !values.isEmpty else { return nil }
            return Row(configuration: configuration, assignment: group[0].assignment,
                       aggregate: Aggregate(values, seed: seed), failed: group.filter { $0.status == .failed }.count)
        }
        return rows.sorted { a, b in
            if a.aggregate.interquartileMean != b.aggregate.interquartileMean {
                return a.aggregate.interquartileMean > b.aggregate.interquartileMean
            }
            if a.aggregate.mean != b.aggregate.mean { return a.aggregate.mean > b.aggregate.mean }
            return a.configuration < b.configuration
        }
    }

    /// summary.csv's text.
    public static func summaryCSV(_ rows: [Row], keys: [String]) -> String {
        let header = ["rank", "configuration"] + keys
            + ["seeds", "failed", "iqm", "iqm_low", "iqm_high", "mean", "mean_low", "mean_high"]
        let lines = rows.enumerated().map { rank, row in
            let a = row.aggregate
            return [String(rank + 1), String(format: "c%03d", row.configuration)] + row.assignment.map(\.description)
                + [String(a.count), String(row.failed)]
                + [a.interquartileMean, a.interquartileMeanInterval.low, a.interquartileMeanInterval.high,
                   a.mean, a.meanInterval.low, a.meanInterval.high].map(number)
        }
        return CSV.text(header: header, rows: lines)
    }

    /// The summary as a Markdown table, numbers rounded for reading.
    public static func summaryMarkdown(_ rows: [Row], keys: [String], objective: String) -> String {
        var text = "| rank | configuration | " + keys.joined(separator: " | ")
            + " | seeds | \(objective) IQM [95% CI] | mean [95% CI] |\n"
        text += "|" + String(repeating: "---|", count: keys.count + 5) + "\n"
        for (rank, row) in rows.enumerated() {
            let a = row.aggregate
            let seeds = row.failed > 0 ? "\(a.count) (+\(row.failed) failed)" : "\(a.count)"
            text += "| \(rank + 1) | " + String(format: "c%03d", row.configuration) + " | "
                + row.assignment.map { if case .double(let v) = $0 { short(v) } else { $0.description } }.joined(separator: " | ")
                + " | \(seeds) | \(short(a.interquartileMean)) [\(short(a.interquartileMeanInterval.low)), \(short(a.interquartileMeanInterval.high))]"
                + " | \(short(a.mean)) [\(short(a.meanInterval.low)), \(short(a.meanInterval.high))] |\n"
        }
        return text
    }

    /// Full precision, so a table read back gives the same numbers.
    static func number(_ x: Double) -> String { "\(x)" }

    /// Four significant digits, for people.
    public static func short(_ x: Double) -> String { String(format: "%.4g", x) }
}
