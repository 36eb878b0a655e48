import Environments
import Foundation

/// A line chart of learning curves: for each series a mean line and an optional shaded
/// band (a 95% interval, say), an optional dashed horizontal threshold, nice ticks, a
/// title, axis labels and a legend. Drawn as SVG text (`svg`) or into a `Frame`
/// (`frame(text:)`, in ChartRaster.swift) from one layout, so both show the same chart.
///
/// Any input draws without trapping: points whose x, mean or band value is NaN, infinite
/// or beyond ±`maximumMagnitude` are skipped and break the line there; a band whose
/// count differs from `x`'s is ignored; a series with fewer means than x values uses the
/// shorter count.
public struct Chart: Sendable, Equatable {
    /// One curve.
    public struct Series: Sendable, Equatable {
        /// The legend's text.
        public var name: String
        /// The x values, increasing (environment steps, say).
        public var x: [Double]
        /// The line, one value per x.
        public var mean: [Double]
        /// The band's lower and upper edges, one value per x each, or nil for no band.
        public var lower: [Double]?
        public var upper: [Double]?

        public init(name: String, x: [Double], mean: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
            self.name = name; self.x = x; self.mean = mean; self.lower = lower; self.upper = upper
        }
    }

    /// A dashed horizontal line across the plot (an environment's solved threshold).
    public struct Threshold: Sendable, Equatable {
        public var value: Double
        public var label: String
        public init(value: Double, label: String) {
            self.value = value; self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var threshold: Threshold?

    public init(title: String, xLabel: String, yLabel: String, series: [Series], threshold: Threshold? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.threshold = threshold
    }

    /// The series' colours, cycled: Okabe and Ito's colour-blind-safe palette, ordered for
    /// a white background (its yellow, hard to see on white, comes late).
    public static let palette: [Color] = [
        Color(0x00, 0x72, 0xB2), Color(0xE6, 0x9F, 0x00), Color(0x00, 0x9E, 0x73), Color(0xCC, 0x79, 0xA7),
        Color(0x56, 0xB4, 0xE9), Color(0xD5, 0x5E, 0x00), Color(0x00, 0x00, 0x00), Color(0xF0, 0xE4, 0x42),
    ]
    /// The colour of series number `index`.
    public static func color(ofSeries index: Int) -> Color { palette[index % palette.count] }
    /// The band's opacity over what lies below it.
    public static let bandOpacity = 0.2
    /// The mean line's width in pixels.
    public static let lineWidth = 2.0
    /// Widths and heights are clamped to this range.
    public static let sizeRange = 200...4000
    /// Values farther from zero than this are treated like NaN (skipped), which keeps
    /// every range and pixel coordinate finite.
    public static let maximumMagnitude = 1e100

    /// The other colours.
    enum Ink {
        static let background = Color.white
        static let grid = Color(232, 232, 236)
        static let axis = Color(90, 90, 96)
        static let text = Color(30, 30, 34)
        static let tickText = Color(80, 80, 88)
        static let threshold = Color(120, 120, 126)
    }

    /// SVG text of the chart, `width × height` pixels (each clamped to `sizeRange`).
    /// The same chart always gives the same text.
    public func svg(width: Int = 800, height: Int = 480) -> String {
        let layout = ChartLayout(chart: self, width: width, height: height, measure: SVGText.measure)
        return SVGText.render(layout)
    }
}

// MARK: - Ticks and numbers

extension Chart {
    /// "Nice" tick values inside `lo...hi`: the multiples of one step of 1, 2 or 5 × 10^k,
    /// 4 to 8 of them (6 preferred; on a tie, the larger step). Where no such step gives
    /// 4 to 8 ticks, 2.5 × 10^k is tried, then the step nearest to that count. Empty
    /// where the range is empty or not finite.
    ///
    /// `ticks(from: 0, to: 500)` is 0, 100, …, 500; `ticks(from: -3.7, to: 12.2)` is
    /// -2, 0, …, 12.
    public static func ticks(from lo: Double, to hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo < hi, (hi - lo).isFinite else { return [] }
        let top = Int(log10(hi - lo).rounded(.down))
        var best: (step: Step, count: Int, miss: Int)?
        for mantissas in [[1, 2, 5], [25]] {
            for exponent in (top - 3)...(top + 1) {
                for mantissa in mantissas {
                    // 25 stands for 2.5: 25 × 10^(k-1).
                    let step = Step(mantissa: mantissa, exponent: mantissa == 25 ? exponent - 1 : exponent)
                    guard let range = step.multiples(from: lo, to: hi) else { continue }
                    let count = range.count
                    let miss = count < 4 ? 4 - count : count > 8 ? count - 8 : 0
                    let score = (miss, abs(count - 6))
                    if let b = best {
                        let bestScore = (b.miss, abs(b.count - 6))
                        // Equal scores: the larger step, which comes later in this loop.
                        if score > bestScore { continue }
                    }
                    best = (step, count, miss)
                }
            }
            if let best, best.miss == 0 { break }
        }
        guard let best, let range = best.step.multiples(from: lo, to: hi) else { return [] }
        return range.map(best.step.value)
    }

    /// A tick step `mantissa × 10^exponent`, kept apart so that multiples are computed
    /// with one rounding (`k × 5 / 100` is the double nearest 0.05k).
    struct Step {
        var mantissa: Int, exponent: Int
        var size: Double { value(1) }
        func value(_ k: Int) -> Double {
            exponent >= 0 ? Double(k * mantissa) * pow(10, Double(exponent))
                : Double(k * mantissa) / pow(10, Double(-exponent))
        }
        /// The k with `k × step` in `lo...hi`; nil where there would be too many to list.
        func multiples(from lo: Double, to hi: Double) -> ClosedRange<Int>? {
            let a = (lo / size - 1e-9).rounded(.up), b = (hi / size + 1e-9).rounded(.down)
            guard a.isFinite, b.isFinite, abs(a) < 1e15, abs(b) < 1e15, b - a < 1000, a <= b else { return nil }
            return Int(a)...Int(b)
        }
    }

    /// `value` in a few characters, with k, M, B or T from a thousand up: 100000 → "100k",
    /// 1500000 → "1.5M", 0.25 → "0.25", -2000 → "-2k". At most four significant digits,
    /// more where `resolution` (the gap between neighbouring values, a tick step) needs
    /// them to tell the values apart; trailing zeros dropped.
    public static func compact(_ value: Double, resolution: Double? = nil) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : value < 0 ? "-inf" : "inf" }
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude >= 1e15 || magnitude < 1e-4 { return String(format: "%.3g", value) }
        // Round to the significant digits shown first, so that 999999 becomes "1M", not "1000k".
        var digits = 4
        if let resolution, resolution.isFinite, resolution > 0, resolution < magnitude {
            digits = max(digits, Int(log10(magnitude).rounded(.down) - log10(resolution).rounded(.down)) + 1)
        }
        let rounded = Double(String(format: "%.\(min(digits, 17))g", value)) ?? value
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
        let (unit, suffix) = units.first { abs(rounded) >= $0.0 } ?? (1, "")
        let scaled = rounded / unit
        let decimals = max(0, digits - 1 - Int(log10(abs(scaled)).rounded(.down)))
        var text = String(format: "%.\(min(decimals, 17))f", scaled)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        return text + suffix
    }

    /// `lo...hi` covering `values` (finite ones), widened by `padding` × its span on
    /// each side; a single value gets ±10% of itself (±1 at zero), no values 0...1.
    static func axisRange(_ values: [Double], padding: Double) -> (lo: Double, hi: Double) {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite {
            lo = min(lo, v); hi = max(hi, v)
        }
        guard lo <= hi else { return (0, 1) }
        let span = hi - lo
        if span <= max(abs(lo), abs(hi)) * 1e-9 {
            let middle = (lo + hi) / 2
            let half = middle == 0 ? 1 : abs(middle) * 0.1
            return (middle - half, middle + half)
        }
        return (lo - span * padding, hi + span * padding)
    }
}

// MARK: - Layout

/// Where everything goes, in pixels with y down, shared by the SVG and raster renderers.
/// Text sizes come from `measure`: exact glyph sizes for the raster, an estimate for SVG.
struct ChartLayout {
    typealias Measure = (String, TextRenderer.Style) -> (width: Int, height: Int)

    /// A piece of text with its top-left corner and measured width. `align` says which
    /// point of it was placed (its left end, middle or right end): SVG anchors the text
    /// there, so an estimated width cannot shift it.
    struct Label {
        enum Align { case start, middle, end }
        var text: String
        var x: Int, y: Int
        var width: Int
        var style: TextRenderer.Style
        var align: Align

        init(_ text: String, x: Int, y: Int, width: Int, style: TextRenderer.Style, align: Align = .start) {
            self.text = text; self.x = x; self.y = y; self.width = width; self.style = style; self.align = align
        }

        /// The x of the point SVG anchors the text at.
        var anchorX: Int {
            switch align { case .start: x; case .middle: x + width / 2; case .end: x + width }
        }
    }
    /// A tick: its pixel position along the axis and its label, if it is shown.
    struct Tick {
        var position: Double
        var label: Label?
        /// The column (or row) of pixels its grid line and tick mark take.
        var pixel: Int { ChartLayout.pixel(position) }
    }
    /// A legend entry: the series' index (its colour), whether it shows a band, its
    /// swatch's rectangle and its name.
    struct LegendEntry {
        var series: Int
        var hasBand: Bool
        var swatch: PixelRect
        var label: Label
    }
    /// A series in pixels: its unbroken runs of line points and of band points.
    struct Curve {
        var lines: [[(x: Double, y: Double)]]
        var bands: [[(x: Double, lower: Double, upper: Double)]]
    }

    static let margin = 12
    static let tickLength = 5
    static let swatchWidth = 24, swatchHeight = 12

    let width: Int, height: Int
    /// The plot area: data, grid and threshold are clipped to it.
    let plot: PixelRect
    let xDomain: (lo: Double, hi: Double)
    let yDomain: (lo: Double, hi: Double)
    var title: Label?
    var xLabel: Label?
    /// Drawn turned a quarter anticlockwise (reading upwards); `x`, `y` is the top-left
    /// corner of the turned text and `width` its length down the page.
    var yLabel: Label?
    var xTicks: [Tick] = []
    var yTicks: [Tick] = []
    var legend: [LegendEntry] = []
    /// "+3 more" where the legend has no room for every series.
    var legendMore: Label?
    var curves: [Curve] = []
    /// The threshold's pixel row (fractional) and its label.
    var threshold: (y: Double, label: Label?)?

    init(chart: Chart, width requestedWidth: Int, height requestedHeight: Int, measure: Measure) {
        let width = min(max(requestedWidth, Chart.sizeRange.lowerBound), Chart.sizeRange.upperBound)
        let height = min(max(requestedHeight, Chart.sizeRange.lowerBound), Chart.sizeRange.upperBound)
        self.width = width
        self.height = height
        let margin = Self.margin, tick = Self.tickLength
        func clean(_ text: String, _ style: TextRenderer.Style, fitting available: Int) -> String {
            Self.truncated(Self.printable(text), style: style, toWidth: available, measure: measure)
        }

        // Data ranges, with every finite point of every line, band and the threshold.
        var xs: [Double] = [], ys: [Double] = []
        let points = chart.series.map(Self.points)
        for series in points {
            for p in series {
                xs.append(p.x)
                if let y = p.mean { ys.append(y) }
                if let band = p.band { ys.append(band.lower); ys.append(band.upper) }
            }
        }
        if let t = chart.threshold, Self.isUsable(t.value) { ys.append(t.value) }
        let xDomain = Chart.axisRange(xs, padding: 0.02), yDomain = Chart.axisRange(ys, padding: 0.06)
        self.xDomain = xDomain
        self.yDomain = yDomain
        let xValues = Chart.ticks(from: xDomain.lo, to: xDomain.hi)
        let yValues = Chart.ticks(from: yDomain.lo, to: yDomain.hi)
        func labels(_ values: [Double]) -> [String] {
            let step = values.count > 1 ? values[1] - values[0] : nil
            return values.map { Chart.compact($0, resolution: step) }
        }
        let xTexts = labels(xValues), yTexts = labels(yValues)
        let small = measure("0", .small).height, body = measure("Ag", .body).height

        // Top: the title.
        var top = margin
        let titleText = clean(chart.title, .title, fitting: width - 2 * margin)
        if !titleText.isEmpty {
            let size = measure(titleText, .title)
            title = Label(titleText, x: (width - size.width) / 2, y: top, width: size.width, style: .title, align: .middle)
            top += size.height + 8
        } else {
            top += small / 2
        }

        // Bottom, from the edge up: the legend, the x label, the x tick labels.
        let rowHeight = max(body, Self.swatchHeight) + 4
        let maximumRows = max(1, (height / 4) / rowHeight)
        let nameWidth = width - 2 * margin - Self.swatchWidth - 6
        var entries: [(series: Int, hasBand: Bool, name: String, width: Int)] = []
        for (i, series) in chart.series.enumerated() {
            let name = clean(series.name, .body, fitting: nameWidth)
            let hasBand = points[i].contains { $0.band != nil }
            entries.append((i, hasBand, name, Self.swatchWidth + 6 + measure(name, .body).width))
        }
        let legendPlan = Self.legendCells(entries.map(\.width), width: width - 2 * margin, gap: 18,
                                          maximumRows: maximumRows) { measure($0, .body).width }
        let legendHeight = legendPlan.rows * rowHeight
        var bottom = height - margin - legendHeight
        let legendTop = bottom + 4
        let xLabelText = clean(chart.xLabel, .body, fitting: width - 2 * margin)
        var xLabelTop = bottom
        if !xLabelText.isEmpty {
            bottom -= body + 2
            xLabelTop = bottom
        }
        bottom -= small + tick + 4
        let plotBottom = max(bottom, top + 10)

        // Left, from the edge in: the y label (turned), the y tick labels.
        var left = margin
        let plotHeightGuess = max(10, plotBottom - top)
        let yLabelText = clean(chart.yLabel, .body, fitting: plotHeightGuess)
        if !yLabelText.isEmpty { left += body + 6 }
        let yTickWidth = yTexts.map { measure($0, .small).width }.max() ?? 0
        let firstXHalf = (xTexts.first.map { measure($0, .small).width } ?? 0) / 2
        let lastXHalf = (xTexts.last.map { measure($0, .small).width } ?? 0) / 2
        left = max(left + yTickWidth + tick + 4, margin + firstXHalf + 2)
        left = min(left, width / 2)
        let right = max(left + 10, width - max(margin, lastXHalf + 4))
        plot = PixelRect(x: left, y: top, width: right - left, height: plotBottom - top)

        if !yLabelText.isEmpty {
            let size = measure(yLabelText, .body)
            // Turned, the text's length runs down the page: `width` is its length.
            yLabel = Label(yLabelText, x: margin, y: top + (plot.height - size.width) / 2, width: size.width, style: .body,
                           align: .middle)
        }
        if !xLabelText.isEmpty {
            let size = measure(xLabelText, .body)
            let centre = min(max(plot.x + plot.width / 2, margin + size.width / 2), width - margin - size.width / 2)
            xLabel = Label(xLabelText, x: centre - size.width / 2, y: xLabelTop, width: size.width, style: .body, align: .middle)
        }

        // Ticks, with every second (third…) label dropped where neighbours would touch.
        let xPositions = xValues.map(xPixel), yPositions = yValues.map(yPixel)
        let xWidths = xTexts.map { measure($0, .small).width }
        let xStride = Self.labelStride(xPositions.count) { i, j in
            abs(xPositions[j] - xPositions[i]) >= Double(xWidths[i] + xWidths[j]) / 2 + 8
        }
        let yStride = Self.labelStride(yPositions.count) { i, j in
            abs(yPositions[j] - yPositions[i]) >= Double(small + 2)
        }
        for (i, position) in xPositions.enumerated() {
            let label = i % xStride == 0
                ? Label(xTexts[i], x: Self.pixel(position) - xWidths[i] / 2, y: plot.y + plot.height + tick + 3,
                        width: xWidths[i], style: .small, align: .middle)
                : nil
            xTicks.append(Tick(position: position, label: label))
        }
        for (i, position) in yPositions.enumerated() {
            let w = measure(yTexts[i], .small).width
            let label = i % yStride == 0
                ? Label(yTexts[i], x: plot.x - tick - 4 - w, y: Self.pixel(position) - small / 2, width: w, style: .small,
                        align: .end)
                : nil
            yTicks.append(Tick(position: position, label: label))
        }

        // The legend, a block centred under the plot.
        let legendLeft = margin + (width - 2 * margin - legendPlan.width) / 2
        for cell in legendPlan.cells {
            let entry = entries[cell.item]
            let x = legendLeft + cell.x, y = legendTop + cell.row * rowHeight
            let swatch = PixelRect(x: x, y: y + (body - Self.swatchHeight) / 2, width: Self.swatchWidth,
                                   height: Self.swatchHeight)
            let nameX = x + Self.swatchWidth + 6
            legend.append(LegendEntry(series: entry.series, hasBand: entry.hasBand, swatch: swatch,
                                      label: Label(entry.name, x: nameX, y: y, width: entry.width - (nameX - x), style: .body)))
        }
        if let more = legendPlan.more {
            legendMore = Label(more.text, x: legendLeft + more.x, y: legendTop + more.row * rowHeight,
                               width: measure(more.text, .body).width, style: .body)
        }

        // The data in pixels.
        curves = points.map { points in
            var curve = Curve(lines: [], bands: [])
            var line: [(x: Double, y: Double)] = [], band: [(x: Double, lower: Double, upper: Double)] = []
            for p in points {
                let x = xPixel(p.x)
                if let mean = p.mean { line.append((x, yPixel(mean))) } else if !line.isEmpty { curve.lines.append(line); line = [] }
                if let b = p.band {
                    band.append((x, yPixel(b.lower), yPixel(b.upper)))
                } else if !band.isEmpty {
                    curve.bands.append(band); band = []
                }
            }
            if !line.isEmpty { curve.lines.append(line) }
            if !band.isEmpty { curve.bands.append(band) }
            return curve
        }

        if let t = chart.threshold, Self.isUsable(t.value) {
            let y = yPixel(t.value)
            let text = clean(t.label, .small, fitting: plot.width - 12)
            var label: Label?
            if !text.isEmpty {
                var labelTop = Self.pixel(y) - small - 3
                if labelTop < plot.y + 2 { labelTop = Self.pixel(y) + 4 }
                label = Label(text, x: plot.x + 6, y: labelTop, width: measure(text, .small).width, style: .small)
            }
            threshold = (y, label)
        }
    }

    /// The pixel column (fractional, pixel edges at integers) of data value `x`.
    func xPixel(_ x: Double) -> Double {
        Double(plot.x) + (x - xDomain.lo) / (xDomain.hi - xDomain.lo) * Double(plot.width)
    }

    /// The pixel row of data value `y` (up the page as `y` grows).
    func yPixel(_ y: Double) -> Double {
        Double(plot.y + plot.height) - (y - yDomain.lo) / (yDomain.hi - yDomain.lo) * Double(plot.height)
    }

    /// A series' points in order: x, and the mean and the band where usable. A point
    /// with neither (or with an unusable x) has x NaN: it only breaks the line.
    static func points(_ series: Chart.Series) -> [(x: Double, mean: Double?, band: (lower: Double, upper: Double)?)] {
        let count = min(series.x.count, series.mean.count)
        let lower = series.lower.flatMap { $0.count == series.x.count ? $0 : nil }
        let upper = series.upper.flatMap { $0.count == series.x.count ? $0 : nil }
        return (0..<count).map { i in
            let x = series.x[i]
            let mean = isUsable(series.mean[i]) ? series.mean[i] : nil
            var band: (lower: Double, upper: Double)?
            if let lower, let upper, isUsable(lower[i]), isUsable(upper[i]) { band = (lower[i], upper[i]) }
            guard isUsable(x), mean != nil || band != nil else { return (.nan, nil, nil) }
            return (x, mean, band)
        }
    }

    /// The pixel holding position `v` (pixel edges at integers), for any `v`.
    static func pixel(_ v: Double) -> Int {
        guard v.isFinite else { return v > 0 ? 1 << 30 : -(1 << 30) }
        return Int(min(max(v, -1e9), 1e9).rounded(.down))
    }

    static func isUsable(_ v: Double) -> Bool { v.isFinite && abs(v) <= Chart.maximumMagnitude }

    /// `text` with control characters (newlines, tabs, NUL) and noncharacters, which XML
    /// does not allow, turned to spaces, and at most 300 characters long.
    static func printable(_ text: String) -> String {
        var result = ""
        for c in text.prefix(300) {
            let isBad = c.unicodeScalars.contains {
                $0.properties.generalCategory == .control || $0.properties.isNoncharacterCodePoint
            }
            result.append(isBad ? " " : c)
        }
        return result
    }

    /// `text` cut short with "…" to fit `available` pixels (or "" where even "…" does not).
    static func truncated(_ text: String, style: TextRenderer.Style, toWidth available: Int, measure: Measure) -> String {
        if text.isEmpty || measure(text, style).width <= available { return text }
        let characters = Array(text)
        var lo = 0, hi = characters.count - 1  // the longest prefix that fits is in lo...hi
        guard measure("…", style).width <= available else { return "" }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if measure(String(characters[..<mid]) + "…", style).width <= available { lo = mid } else { hi = mid - 1 }
        }
        var prefix = String(characters[..<lo])
        while prefix.last?.isWhitespace == true { prefix.removeLast() }
        return prefix + "…"
    }

    /// Where legend entries of the given widths go, as x offsets from the block's left
    /// and rows: all on one row where they fit in `width`, else in a grid of equal
    /// columns. Past `maximumRows` rows, the entries that do not fit give way to
    /// "+N more" (its width from `measure`) after the last one shown.
    static func legendCells(
        _ widths: [Int], width: Int, gap: Int, maximumRows: Int, measure: (String) -> Int
    ) -> (cells: [(item: Int, x: Int, row: Int)], more: (text: String, x: Int, row: Int)?, width: Int, rows: Int) {
        guard !widths.isEmpty else { return ([], nil, 0, 0) }
        let total = widths.reduce(0, +) + (widths.count - 1) * gap
        if total <= width {
            var x = 0
            let cells = widths.enumerated().map { i, w in
                defer { x += w + gap }
                return (item: i, x: x, row: 0)
            }
            return (cells, nil, total, 1)
        }
        let cell = widths.max()! + gap
        let columns = max(1, (width + gap) / cell)
        var cells = widths.indices.map { (item: $0, x: ($0 % columns) * cell, row: $0 / columns) }
        var more: (text: String, x: Int, row: Int)?
        if cells.last!.row >= maximumRows {
            cells.removeAll { $0.row >= maximumRows }
            while true {
                // "+N more" goes in the slot after the last entry shown: beside it, or
                // at the start of the next row.
                let text = "+\(widths.count - cells.count) more", textWidth = measure(text)
                var place = (x: 0, row: 0)
                if let last = cells.last {
                    place = last.x + cell + textWidth <= width ? (last.x + cell, last.row) : (0, last.row + 1)
                }
                if place.row < maximumRows || cells.isEmpty {
                    more = (text, place.x, place.row)
                    break
                }
                cells.removeLast()
            }
        }
        let used = max(cells.map { $0.x + widths[$0.item] }.max() ?? 0, more.map { $0.x + measure($0.text) } ?? 0)
        let rows = max(cells.last.map { $0.row + 1 } ?? 0, more.map { $0.row + 1 } ?? 0)
        return (cells, more, min(used, width), rows)
    }

    /// The smallest stride s such that labels 0, s, 2s, … are all `apart`.
    static func labelStride(_ count: Int, apart: (Int, Int) -> Bool) -> Int {
        guard count > 1 else { return 1 }
        for s in 1..<count {
            if stride(from: 0, to: count - s, by: s).allSatisfy({ apart($0, $0 + s) }) { return s }
        }
        return count
    }
}

// MARK: - SVG

enum SVGText {
    static func fontSize(_ style: TextRenderer.Style) -> Int {
        switch style { case .title: 18; case .body: 15; case .small: 12 }
    }

    /// An estimate of DejaVu Sans' extent: 0.6 em a character, 0.66 in bold (its average
    /// is a little less, so the estimate errs towards cutting a name short), 1.17 em a line.
    static func measure(_ text: String, _ style: TextRenderer.Style) -> (width: Int, height: Int) {
        let size = Double(fontSize(style))
        let em = style == .title ? 0.66 : 0.6
        return (Int((Double(text.count) * size * em).rounded(.up)), Int((size * 1.17).rounded(.up)))
    }

    /// `v` with at most two decimals, trailing zeros dropped.
    static func number(_ v: Double) -> String {
        let clamped = v.isFinite ? min(max(v, -1e7), 1e7) : 0
        var text = String(format: "%.2f", clamped)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    static func hex(_ c: Color) -> String { String(format: "#%02x%02x%02x", c.red, c.green, c.blue) }

    /// `text` safe inside an XML element or a quoted attribute.
    static func escaped(_ text: String) -> String {
        var result = ""
        for c in text {
            switch c {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(c)
            }
        }
        return result
    }

    /// A text element for `label`, whose y is the top of the text (SVG's is the baseline).
    static func text(_ label: ChartLayout.Label, color: Color, turned: Bool = false) -> String {
        let size = fontSize(label.style)
        var attributes = "font-size=\"\(size)\" fill=\"\(hex(color))\""
        if label.style == .title { attributes += " font-weight=\"bold\"" }
        switch label.align {
        case .start: break
        case .middle: attributes += " text-anchor=\"middle\""
        case .end: attributes += " text-anchor=\"end\""
        }
        let ascent = Int((Double(size) * 0.93).rounded())
        if turned {
            // Reading upwards: the baseline runs up the page `ascent` right of the box's
            // left edge; the middle of the text at the middle of the box.
            let x = label.x + ascent, y = label.y + label.width / 2
            return "<text x=\"\(x)\" y=\"\(y)\" \(attributes) transform=\"rotate(-90 \(x) \(y))\">\(escaped(label.text))</text>\n"
        }
        return "<text x=\"\(label.anchorX)\" y=\"\(label.y + ascent)\" \(attributes)>\(escaped(label.text))</text>\n"
    }

    static func render(_ layout: ChartLayout) -> String {
        let w = layout.width, h = layout.height, p = layout.plot
        let n = number
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" \
            font-family="DejaVu Sans, Verdana, sans-serif">
            <defs><clipPath id="plot-area"><rect x="\(p.x)" y="\(p.y)" width="\(p.width)" height="\(p.height)"/></clipPath></defs>
            <rect width="\(w)" height="\(h)" fill="\(hex(Chart.Ink.background))"/>

            """
        // Grid: lines through the middle of the ticks' pixels, inside the plot.
        svg += "<g stroke=\"\(hex(Chart.Ink.grid))\" stroke-width=\"1\">\n"
        for t in layout.xTicks where t.pixel >= p.x && t.pixel < p.x + p.width {
            svg += "<line x1=\"\(t.pixel).5\" y1=\"\(p.y)\" x2=\"\(t.pixel).5\" y2=\"\(p.y + p.height)\"/>\n"
        }
        for t in layout.yTicks where t.pixel >= p.y && t.pixel < p.y + p.height {
            svg += "<line x1=\"\(p.x)\" y1=\"\(t.pixel).5\" x2=\"\(p.x + p.width)\" y2=\"\(t.pixel).5\"/>\n"
        }
        svg += "</g>\n"

        // Data, clipped to the plot: bands, the threshold, lines.
        svg += "<g clip-path=\"url(#plot-area)\">\n"
        for (i, curve) in layout.curves.enumerated() {
            let color = hex(Chart.color(ofSeries: i))
            for band in curve.bands where band.count > 1 {
                let outline = band.map { "\(n($0.x)),\(n($0.upper))" } + band.reversed().map { "\(n($0.x)),\(n($0.lower))" }
                svg += "<polygon points=\"\(outline.joined(separator: " "))\" fill=\"\(color)\" "
                    + "fill-opacity=\"\(Chart.bandOpacity)\" stroke=\"none\"/>\n"
            }
        }
        if let t = layout.threshold {
            let y = n(t.y)
            svg += "<line class=\"threshold\" x1=\"\(p.x)\" y1=\"\(y)\" x2=\"\(p.x + p.width)\" y2=\"\(y)\" "
                + "stroke=\"\(hex(Chart.Ink.threshold))\" stroke-width=\"1.5\" stroke-dasharray=\"8 5\"/>\n"
        }
        for (i, curve) in layout.curves.enumerated() {
            let color = hex(Chart.color(ofSeries: i))
            for line in curve.lines {
                if line.count == 1 {
                    svg += "<circle cx=\"\(n(line[0].x))\" cy=\"\(n(line[0].y))\" r=\"2.5\" fill=\"\(color)\"/>\n"
                } else {
                    svg += "<polyline points=\"\(line.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " "))\" "
                        + "fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(n(Chart.lineWidth))\" "
                        + "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
                }
            }
        }
        svg += "</g>\n"

        // Axes, ticks and labels.
        let axis = hex(Chart.Ink.axis)
        let bottom = p.y + p.height
        // Axes in the pixel column left of the plot and the row below it.
        svg += "<path d=\"M\(p.x - 1).5 \(p.y)V\(bottom).5H\(p.x + p.width)\" fill=\"none\" stroke=\"\(axis)\" stroke-width=\"1\"/>\n"
        svg += "<g stroke=\"\(axis)\" stroke-width=\"1\">\n"
        let tick = ChartLayout.tickLength
        for t in layout.xTicks {
            svg += "<line x1=\"\(t.pixel).5\" y1=\"\(bottom + 1)\" x2=\"\(t.pixel).5\" y2=\"\(bottom + 1 + tick)\"/>\n"
        }
        for t in layout.yTicks {
            svg += "<line x1=\"\(p.x - 1 - tick)\" y1=\"\(t.pixel).5\" x2=\"\(p.x - 1)\" y2=\"\(t.pixel).5\"/>\n"
        }
        svg += "</g>\n"
        for t in layout.xTicks + layout.yTicks { if let l = t.label { svg += text(l, color: Chart.Ink.tickText) } }
        if let l = layout.threshold?.label { svg += text(l, color: Chart.Ink.threshold) }
        if let l = layout.title { svg += text(l, color: Chart.Ink.text) }
        if let l = layout.xLabel { svg += text(l, color: Chart.Ink.text) }
        if let l = layout.yLabel { svg += text(l, color: Chart.Ink.text, turned: true) }

        // Legend.
        for entry in layout.legend {
            let s = entry.swatch, color = hex(Chart.color(ofSeries: entry.series))
            if entry.hasBand {
                svg += "<rect x=\"\(s.x)\" y=\"\(s.y)\" width=\"\(s.width)\" height=\"\(s.height)\" fill=\"\(color)\" "
                    + "fill-opacity=\"\(Chart.bandOpacity)\"/>\n"
            }
            let y = n(Double(s.y) + Double(s.height) / 2)
            svg += "<line x1=\"\(s.x)\" y1=\"\(y)\" x2=\"\(s.x + s.width)\" y2=\"\(y)\" stroke=\"\(color)\" "
                + "stroke-width=\"\(n(Chart.lineWidth))\"/>\n"
            svg += text(entry.label, color: Chart.Ink.text)
        }
        if let l = layout.legendMore { svg += text(l, color: Chart.Ink.tickText) }
        svg += "</svg>\n"
        return svg
    }
}
