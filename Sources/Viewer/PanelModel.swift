import Environments
import Foundation

/// What the panel beside the frame says, as plain values: the renderer draws exactly
/// this, and tests read it.
public struct PanelModel: Equatable, Sendable {
    /// One row per action.
    public struct ActionRow: Equatable, Sendable {
        public var name: String
        /// The key that plays the action (`play`), shown after the name.
        public var keyLabel: String?
        /// The score as shown ("0.25", "-1.30"); `nil` when there are no scores.
        public var scoreText: String?
        /// How much of the bar is filled, in 0...1; `nil` for no bar.
        public var barFraction: Double?
        /// The score is negative (a Q-value): the bar is drawn in the negative colour.
        public var isNegative: Bool
        /// This is the action that was played.
        public var isChosen: Bool
        /// A continuous action: where its value lies between the bounds, in 0...1 (drawn as
        /// a marker on the track); `nil` otherwise.
        public var markerFraction: Double? = nil
        /// A Gaussian policy: the value ± one standard deviation, as a part of the track
        /// (drawn as a band behind the marker); `nil` otherwise.
        public var spreadFraction: ClosedRange<Double>? = nil
        /// Where zero lies on the track, when the bounds straddle it (a continuous action).
        public var zeroFraction: Double? = nil
    }

    public var title: String
    public var episode: Int
    public var step: Int
    public var episodeReturn: Double
    /// The last action's name; `nil` before the episode's first step.
    public var lastActionName: String?
    /// What the bars show: "policy", "Q-values" or "keys".
    public var scoresHeading: String
    public var rows: [ActionRow]
    /// "playing · 15 steps/s", "paused", "episode over", ...
    public var status: String
    /// Two lines of key help.
    public var help: [String]
    /// What drives the next action, when saliency is shown (nil otherwise).
    public var saliency: Saliency?

    /// How strongly the current observation drives the action about to be chosen, scaled
    /// so the strongest is 1: over the frame's grid for observations that are grid cells
    /// (the largest of each cell's channels), else one bar per observation float.
    public enum Saliency: Equatable, Sendable {
        /// Row-major `rows × columns` values in 0...1.
        case grid(rows: Int, columns: Int, values: [Double])
        /// One row per observation float (at most `SceneRenderer.maximumSaliencyRows`).
        case components([ActionRow])

        /// `values` (one per observation float) laid out for `grid`, or as rows named by
        /// `names` (`obs 0`, `obs 1`, ... where a name is missing).
        public init(_ values: [Float], grid: ObservationGrid?, names: [String] = []) {
            let magnitudes = values.map { $0.isFinite ? Double(Swift.abs($0)) : 0 }
            if let grid, grid.rows * grid.columns > 0, magnitudes.count % (grid.rows * grid.columns) == 0 {
                let cells = grid.rows * grid.columns, channels = magnitudes.count / cells
                var byCell = (0..<cells).map { cell in magnitudes[(cell * channels)..<((cell + 1) * channels)].max() ?? 0 }
                let largest = byCell.max() ?? 0
                if largest > 0 { byCell = byCell.map { $0 / largest } }
                self = .grid(rows: grid.rows, columns: grid.columns, values: byCell)
            } else {
                let shown = Array(magnitudes.prefix(SceneRenderer.maximumSaliencyRows))
                let largest = magnitudes.max() ?? 0
                self = .components(shown.enumerated().map { i, value in
                    ActionRow(name: i < names.count ? names[i] : "obs \(i)", keyLabel: nil, scoreText: String(format: "%.3g", value),
                              barFraction: largest > 0 ? value / largest : 0, isNegative: false, isChosen: false)
                })
            }
        }
    }

    /// The label–value lines under the title, in order.
    public var statLines: [(label: String, value: String)] {
        [
            ("Episode", String(episode)),
            ("Step", String(step)),
            ("Return", Self.format(episodeReturn)),
            ("Last action", lastActionName ?? "–"),
        ]
    }

    /// Whole numbers without decimals ("12", "-100"), others with two ("0.50").
    public static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int(value)) }
        return String(format: "%.2f", value)
    }

    /// The panel for `session`'s current state.
    /// - Parameters:
    ///   - keyLabels: the key shown beside each action (`play`), or `nil`.
    ///   - status: the status line; `help`: the two help lines.
    public init(
        session: EpisodeSession, title: String, keyLabels: [String?]? = nil,
        status: String, help: [String]
    ) {
        self.title = title
        episode = session.episode
        step = session.step
        episodeReturn = session.episodeReturn
        let names = session.actionNames
        let advice = session.lastAdvice
        if let advice, advice.isContinuous {
            lastActionName = "[" + advice.values.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]"
        } else {
            lastActionName = advice.map { names[$0.action] }
        }
        self.status = status
        self.help = help
        saliency = session.saliency.map {
            Saliency($0, grid: session.environment.observationGrid, names: session.environment.observationNames)
        }
        if let box = session.environment.actionSpace.box {
            rows = Self.continuousRows(names: names, advice: advice, box: box)
        } else {
            rows = Self.rows(names: names, advice: advice, keyLabels: keyLabels)
        }
        switch advice?.kind {
        case .values: scoresHeading = "Q-values"
        case .probabilities: scoresHeading = "Policy"
        case .gaussian: scoresHeading = "Action (mean, band ± sd)"
        case .continuous: scoresHeading = "Action"
        case .choice: scoresHeading = keyLabels == nil ? "Actions" : "Keys"
        case nil: scoresHeading = keyLabels == nil ? "Actions" : "Keys"
        }
    }

    /// One row per dimension of a continuous action: its value as text, and on the track a
    /// marker where the value lies between the bounds, behind it a band of ± one standard
    /// deviation for a Gaussian policy.
    static func continuousRows(names: [String], advice: Advice?, box: Box) -> [ActionRow] {
        names.indices.map { i in
            var row = ActionRow(name: names[i], keyLabel: nil, scoreText: nil, barFraction: nil, isNegative: false,
                                isChosen: false)
            guard let advice, advice.isContinuous, i < advice.values.count else { return row }
            let value = Double(advice.values[i])
            row.scoreText = String(format: "%.2f", value)
            row.isNegative = value < 0
            let low = Double(box.low[i]), high = Double(box.high[i])
            guard low.isFinite, high.isFinite, high > low, value.isFinite else { return row }
            func fraction(_ x: Double) -> Double { min(1, max(0, (x - low) / (high - low))) }
            row.markerFraction = fraction(value)
            if low < 0, high > 0 { row.zeroFraction = fraction(0) }
            if i < advice.spreads.count, advice.spreads[i].isFinite {
                let spread = Double(advice.spreads[i])
                row.spreadFraction = fraction(value - spread)...fraction(value + spread)
            }
            return row
        }
    }

    /// One row per action: bars `p` long for probabilities, `|q| / max|q|` for values.
    static func rows(names: [String], advice: Advice?, keyLabels: [String?]?) -> [ActionRow] {
        let scores = advice?.scores ?? []
        let largest = scores.map { abs(Double($0)) }.max() ?? 0
        return names.indices.map { i in
            var row = ActionRow(
                name: names[i], keyLabel: keyLabels?[i], scoreText: nil, barFraction: nil,
                isNegative: false, isChosen: advice?.action == i)
            if let advice, i < scores.count {
                let score = Double(scores[i])
                switch advice.kind {
                case .probabilities:
                    row.scoreText = String(format: "%.2f", score)
                    row.barFraction = score.isFinite ? min(1, max(0, score)) : 0
                case .values:
                    row.scoreText = String(format: "%.2f", score)
                    row.barFraction = largest > 0 && score.isFinite ? abs(score) / largest : 0
                    row.isNegative = score < 0
                case .choice, .gaussian, .continuous:
                    break
                }
            }
            return row
        }
    }

    /// The number of pixels of a `width`-pixel bar that `fraction` fills.
    public static func filledLength(_ fraction: Double, width: Int) -> Int {
        Int((fraction * Double(width)).rounded())
    }
}
