import Foundation
import Viewer

/// The rows of `metrics.csv`: one per logged step, CleanRL-style keys as columns. Only
/// deterministic values are logged (no wall-clock figures), so the same seed gives the same
/// file, byte for byte. Rows are kept in memory and the file is rewritten atomically at
/// every checkpoint and at the end.
package struct MetricsLog {
    package static let episodeKeys = ["charts/episodic_return", "charts/episodic_length"]
    package let columns: [String]
    private(set) var rows: [[String: Double]] = []

    /// A log with the standard columns (step, episodes, episodic return and length) and
    /// the agent's own metric keys.
    package init(metricKeys: [String]) {
        columns = ["step", "episodes"] + Self.episodeKeys + metricKeys
    }

    package mutating func append(_ row: [String: Double]) { rows.append(row) }

    /// Drops rows logged after `step` (when resuming from an earlier checkpoint).
    package mutating func truncate(after step: Int) {
        rows.removeAll { ($0["step"] ?? 0) > Double(step) }
    }

    package var csv: String {
        var text = columns.joined(separator: ",") + "\n"
        for row in rows {
            text += columns.map { key in row[key].map(Self.format) ?? "" }.joined(separator: ",") + "\n"
        }
        return text
    }

    /// Integers without a decimal point; other values in the shortest form that reads back
    /// exactly.
    package static func format(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }

    /// Reads a file written by `csv` (for resuming); unknown columns are ignored.
    package static func parse(_ text: String, metricKeys: [String]) -> MetricsLog {
        var log = MetricsLog(metricKeys: metricKeys)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else { return log }
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            var row: [String: Double] = [:]
            for (key, cell) in zip(header, cells) { if let v = Double(cell) { row[key] = v } }
            log.rows.append(row)
        }
        return log
    }

    /// (step, mean episodic return) of every row that has one.
    package var returnCurve: [(step: Double, value: Double)] {
        rows.compactMap { row in
            guard let step = row["step"], let value = row["charts/episodic_return"] else { return nil }
            return (step, value)
        }
    }
}

/// The learning curve a person opens in a browser: each logged return, and its moving
/// average over about 2% of the points to show the trend.
package func learningCurveSVG(_ points: [(step: Double, value: Double)], title: String, threshold: Double?) -> String {
    let window = max(1, points.count / 50)
    var smoothed: [Double] = [], sum = 0.0
    for (i, p) in points.enumerated() {
        sum += p.value
        if i >= window { sum -= points[i - window].value }
        smoothed.append(sum / Double(min(i + 1, window)))
    }
    let steps = points.map(\.step)
    let chart = Chart(
        title: title, xLabel: "environment steps", yLabel: "episodic return",
        series: [Chart.Series(name: "return (mean of the episodes in each log interval)", x: steps, mean: points.map(\.value)),
                 Chart.Series(name: "moving average over \(window) point\(window == 1 ? "" : "s")", x: steps, mean: smoothed)],
        threshold: threshold.map { Chart.Threshold(value: $0, label: "threshold \(String(format: "%g", $0))") })
    return chart.svg(width: 720, height: 420)
}
