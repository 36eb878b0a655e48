import Foundation
import Sweeps
import Training

/// What a finished run folder says about its results, read with size limits: `sweep`
/// scores trials with it and `compare` plots and tabulates runs with it.
enum RunResults {
    /// A run's (step, value) pairs for `metric`, skipping steps with no value.
    static func curve(of run: URL, metric: String) throws -> [(step: Double, value: Double)] {
        let file = run.appendingPathComponent("metrics.csv")
        let rows = try CSV.rows(SweepCommand.readText(file, limit: CSV.maximumSize), name: file.path)
        guard let header = rows.first, let stepColumn = header.firstIndex(of: "step") else {
            throw UsageError("\(file.path) has no step column: is it a run's metrics.csv?")
        }
        guard let column = header.firstIndex(of: metric) else {
            throw UsageError("\(file.path) has no column '\(metric)'; its columns: \(header.joined(separator: ", "))")
        }
        return rows.dropFirst().compactMap { row in
            guard let step = Double(row[stepColumn]), let value = Double(row[column]), step.isFinite, value.isFinite else { return nil }
            return (step, value)
        }
    }

    /// The mean greedy return in the run's eval.json (written by `eval --json`).
    static func evaluatedReturn(of run: URL) throws -> Double {
        let file = run.appendingPathComponent("eval.json")
        let text = try SweepCommand.readText(file, limit: 64 << 20)
        guard let report = try JSONDecoder().decode([EvaluationReport].self, from: Data(text.utf8)).first,
              report.returns.mean.isFinite else {
            throw SweepError.folder("\(file.path) holds no evaluation")
        }
        return report.returns.mean
    }
}
