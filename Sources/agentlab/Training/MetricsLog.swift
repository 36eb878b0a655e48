import Foundation

/// The rows of `metrics.csv`: one per logged step, CleanRL-style keys as columns. Only
/// deterministic values are logged (no wall-clock figures), so the same seed gives the same
/// file, byte for byte. Rows are kept in memory and the file is rewritten atomically at
/// every checkpoint and at the end.
struct MetricsLog {
    static let episodeKeys = ["charts/episodic_return", "charts/episodic_length"]
    let columns: [String]
    private(set) var rows: [[String: Double]] = []

    /// A log with the standard columns (step, episodes, episodic return and length) and
    /// the agent's own metric keys.
    init(metricKeys: [String]) {
        columns = ["step", "episodes"] + Self.episodeKeys + metricKeys
    }

    mutating func append(_ row: [String: Double]) { rows.append(row) }

    /// Drops rows logged after `step` (when resuming from an earlier checkpoint).
    mutating func truncate(after step: Int) {
        rows.removeAll { ($0["step"] ?? 0) > Double(step) }
    }

    var csv: String {
        var text = columns.joined(separator: ",") + "\n"
        for row in rows {
            text += columns.map { key in row[key].map(Self.format) ?? "" }.joined(separator: ",") + "\n"
        }
        return text
    }

    /// Integers without a decimal point; other values in the shortest form that reads back
    /// exactly.
    static func format(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }

    /// Reads a file written by `csv` (for resuming); unknown columns are ignored.
    static func parse(_ text: String, metricKeys: [String]) -> MetricsLog {
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
    var returnCurve: [(step: Double, value: Double)] {
        rows.compactMap { row in
            guard let step = row["step"], let value = row["charts/episodic_return"] else { return nil }
            return (step, value)
        }
    }
}

/// A line chart as SVG text: the learning curve a person opens in a browser.
func learningCurveSVG(
    _ points: [(step: Double, value: Double)], title: String, threshold: Double?, totalSteps: Double? = nil
) -> String {
    let width = 720.0, height = 420.0, left = 70.0, right = 36.0, top = 40.0, bottom = 50.0
    let plotWidth = width - left - right, plotHeight = height - top - bottom
    let maxStep = max(totalSteps ?? points.map(\.step).max() ?? 1, 1)
    var low = points.map(\.value).min() ?? 0, high = points.map(\.value).max() ?? 1
    if let threshold { low = min(low, threshold); high = max(high, threshold) }
    if high - low < 1e-9 { high = low + 1 }
    let valueStep = niceStep((high - low) / 5)
    low = (low / valueStep).rounded(.down) * valueStep
    high = (high / valueStep).rounded(.up) * valueStep
    func x(_ step: Double) -> Double { left + plotWidth * step / maxStep }
    func y(_ value: Double) -> Double { top + plotHeight * (1 - (value - low) / (high - low)) }
    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(escapeXML(title))</text>

        """
    for value in stride(from: low, through: high + valueStep / 2, by: valueStep) {
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(value)))\" stroke=\"#e4e4e4\"/>\n"
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(String(format: "%g", value))</text>\n"
    }
    let stepStep = niceStep(maxStep / 5)
    for step in stride(from: 0, through: maxStep + stepStep / 100, by: stepStep) {
        svg += "<text x=\"\(f(x(step)))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\">\(Int(step))</text>\n"
    }
    svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#444\"/>\n"
    svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">environment steps</text>\n"
    svg += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\">episodic return</text>\n"
    if let threshold {
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(threshold)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(threshold)))\" stroke=\"#2a9d3a\" stroke-dasharray=\"6 4\"/>\n"
        svg += "<text x=\"\(f(width - right - 4))\" y=\"\(f(y(threshold) - 5))\" text-anchor=\"end\" fill=\"#2a9d3a\">threshold \(String(format: "%g", threshold))</text>\n"
    }
    if !points.isEmpty {
        let path = points.map { "\(f(x($0.step))),\(f(y($0.value)))" }.joined(separator: " ")
        svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#9db8e8\" stroke-width=\"1\"/>\n"
        // A moving average over ~2% of the points shows the trend.
        let window = max(1, points.count / 50)
        var smoothed: [(Double, Double)] = []
        var sum = 0.0
        for (i, p) in points.enumerated() {
            sum += p.value
            if i >= window { sum -= points[i - window].value }
            smoothed.append((p.step, sum / Double(min(i + 1, window))))
        }
        svg += "<polyline points=\"\(smoothed.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#1f4fb4\" stroke-width=\"2\"/>\n"
    }
    return svg + "</svg>\n"
}

/// The round number (1, 2 or 5 × 10ᵏ) nearest above `rough`, for axis ticks.
private func niceStep(_ rough: Double) -> Double {
    guard rough > 0, rough.isFinite else { return 1 }
    let magnitude = pow(10, (log10(rough)).rounded(.down))
    let fraction = rough / magnitude
    return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
}

private func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
}
