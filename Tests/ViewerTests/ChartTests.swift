import Environments
import Foundation
@testable import Viewer
import XCTest

final class ChartTests: XCTestCase {
    override func setUp() { useHeadlessVideo() }

    /// The text renderer, or a skip where the font is not installed.
    private func textRenderer() throws -> TextRenderer {
        let path = TextRenderer.defaultFontPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("no font at \(path) (install fonts-dejavu-core)")
        }
        return try TextRenderer(fontPath: path)
    }

    // MARK: Ticks and numbers

    func testTicksWorkedOutByHand() {
        // 0…500: step 50 gives 11 ticks, 200 gives 3; 100 gives 6.
        XCTAssertEqual(Chart.ticks(from: 0, to: 500), [0, 100, 200, 300, 400, 500])
        XCTAssertEqual(Chart.ticks(from: 0, to: 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        // Span 15.9: step 1 gives 16, 5 gives 3 (0, 5, 10); 2 gives 8 (-2 … 12).
        XCTAssertEqual(Chart.ticks(from: -3.7, to: 12.2), [-2, 0, 2, 4, 6, 8, 10, 12])
        XCTAssertEqual(Chart.ticks(from: 0, to: 1_000_000), [0, 200_000, 400_000, 600_000, 800_000, 1_000_000])
        XCTAssertEqual(Chart.ticks(from: 0.1, to: 0.35), [0.1, 0.15, 0.2, 0.25, 0.3, 0.35])
        // 1…18.9: step 2 gives 9 (2 … 18), 5 gives 3: neither fits 4–8, so 2.5 (7 ticks).
        XCTAssertEqual(Chart.ticks(from: 1, to: 18.9), [2.5, 5, 7.5, 10, 12.5, 15, 17.5])
        XCTAssertEqual(Chart.ticks(from: 475, to: 475), [])
        XCTAssertEqual(Chart.ticks(from: .nan, to: 1), [])
        XCTAssertEqual(Chart.ticks(from: 0, to: .infinity), [])
    }

    /// Over ranges of every scale and position: 4 to 8 ticks inside the range, evenly
    /// spaced by 1, 2, 2.5 or 5 × 10^k.
    func testTicksAreFourToEightNiceStepsInsideTheRange() {
        var lcg: UInt64 = 12345
        func uniform() -> Double {
            lcg = lcg &* 6364136223846793005 &+ 1442695040888963407
            return Double(lcg >> 11) / Double(1 << 53)
        }
        for _ in 0..<2000 {
            let scale = pow(10, uniform() * 24 - 12)
            let lo = (uniform() * 2 - 1) * scale * 3, hi = lo + scale * (0.1 + uniform() * 10)
            let ticks = Chart.ticks(from: lo, to: hi)
            XCTAssertTrue((4...8).contains(ticks.count), "\(lo)…\(hi): \(ticks)")
            guard ticks.count >= 2 else { continue }
            XCTAssertGreaterThanOrEqual(ticks.first!, lo)
            XCTAssertLessThanOrEqual(ticks.last!, hi)
            let step = ticks[1] - ticks[0]
            let mantissa = step / pow(10, log10(step).rounded(.down))
            XCTAssertTrue([1, 2, 2.5, 5, 10].contains { abs($0 - mantissa) < 1e-6 }, "step \(step)")
            for (a, b) in zip(ticks, ticks.dropFirst()) {
                XCTAssertEqual(b - a, step, accuracy: step * 1e-6)
            }
        }
    }

    func testCompactNumbers() {
        XCTAssertEqual(Chart.compact(0), "0")
        XCTAssertEqual(Chart.compact(475), "475")
        XCTAssertEqual(Chart.compact(12.5), "12.5")
        XCTAssertEqual(Chart.compact(0.25), "0.25")
        XCTAssertEqual(Chart.compact(0.1 + 0.2), "0.3")
        XCTAssertEqual(Chart.compact(1000), "1k")
        XCTAssertEqual(Chart.compact(-2000), "-2k")
        XCTAssertEqual(Chart.compact(100_000), "100k")
        XCTAssertEqual(Chart.compact(123_456), "123.5k")
        XCTAssertEqual(Chart.compact(999_999), "1M")  // rounds to 1M, not "1000k"
        XCTAssertEqual(Chart.compact(1_500_000), "1.5M")
        XCTAssertEqual(Chart.compact(2_500_000_000), "2.5B")
        XCTAssertEqual(Chart.compact(3e12), "3T")
        XCTAssertEqual(Chart.compact(-0.0), "0")
        XCTAssertEqual(Chart.compact(.nan), "nan")
        // Ticks 10000, 10000.5, …: four digits would print "10k" for both.
        XCTAssertEqual(Chart.compact(10_000.5, resolution: 0.5), "10.0005k")
        XCTAssertEqual(Chart.ticks(from: 0, to: 1_000_000).map { Chart.compact($0) }, ["0", "200k", "400k", "600k", "800k", "1M"])
    }

    func testAxisRangesArePaddedAndNeverEmpty() {
        XCTAssertTrue(Chart.axisRange([0, 100], padding: 0.05) == (-5, 105))
        XCTAssertTrue(Chart.axisRange([.nan, 100, -.infinity, 0], padding: 0.05) == (-5, 105))
        XCTAssertTrue(Chart.axisRange([475, 475], padding: 0.05) == (427.5, 522.5))  // ±10%
        XCTAssertTrue(Chart.axisRange([0], padding: 0.05) == (-1, 1))
        XCTAssertTrue(Chart.axisRange([], padding: 0.05) == (0, 1))
    }

    // MARK: SVG

    /// Three series of 30 points with bands, and the threshold at 475.
    static func example() -> Chart {
        let x = (0..<30).map { Double($0) * 10_000 }
        func curve(_ rate: Double, _ top: Double, _ spread: Double) -> Curve {
            let mean = x.map { top * (1 - exp(-$0 * rate)) + 10 }
            return (mean, mean.enumerated().map { $1 - spread * (1 + sin(Double($0))) },
                    mean.enumerated().map { $1 + spread * (1 + cos(Double($0))) })
        }
        let curves = [curve(2e-5, 490, 30), curve(8e-6, 420, 45), curve(4e-5, 300, 20)]
        let names = ["ppo lr=3e-4 (5 seeds)", "dqn <baseline> & \"tuned\" (5 seeds)", "a2c (5 seeds)"]
        return Chart(
            title: "CartPole-v1: charts/episodic_return", xLabel: "environment steps", yLabel: "charts/episodic_return",
            series: zip(names, curves).map { Chart.Series(name: $0, x: x, mean: $1.mean, lower: $1.lower, upper: $1.upper) },
            threshold: Chart.Threshold(value: 475, label: "solved (475)"))
    }

    func testSVGHasOneLinePerSeriesTheThresholdAndEscapedNames() {
        let chart = Self.example()
        let svg = chart.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"480\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline ").count - 1, 3)
        XCTAssertEqual(svg.components(separatedBy: "<polygon ").count - 1, 3)
        XCTAssertEqual(svg.components(separatedBy: "fill-opacity=\"0.2\"").count - 1, 6)  // 3 bands, 3 legend swatches
        XCTAssertEqual(svg.components(separatedBy: "class=\"threshold\"").count - 1, 1)
        XCTAssertTrue(svg.contains("stroke-dasharray=\"8 5\""))
        XCTAssertTrue(svg.contains(">solved (475)</text>"))
        // Each series' colour strokes its line.
        for i in 0..<3 {
            let c = Chart.color(ofSeries: i)
            XCTAssertTrue(svg.contains(String(format: "stroke=\"#%02x%02x%02x\" stroke-width=\"2\"", c.red, c.green, c.blue)))
        }
        XCTAssertTrue(svg.contains(">dqn &lt;baseline&gt; &amp; &quot;tuned&quot; (5 seeds)</text>"))
        XCTAssertFalse(svg.contains("<baseline>"))
        XCTAssertFalse(svg.contains("\"tuned\""))
        // Every number has at most two decimals.
        XCTAssertNil(svg.range(of: #"\d\.\d{3}"#, options: .regularExpression))
        // Tick labels: 0…290k steps, 0…~550 return.
        XCTAssertTrue(svg.contains(">100k</text>"))
        XCTAssertTrue(svg.contains(">200k</text>"))
        XCTAssertTrue(svg.contains(">400</text>"))
        XCTAssertEqual(svg, Self.example().svg(), "the same chart gives the same text")
    }

    func testSVGBreaksLinesAtNaNAndIgnoresMismatchedBands() {
        let chart = Chart(title: "t", xLabel: "x", yLabel: "y", series: [
            Chart.Series(name: "gap", x: [0, 1, 2, 3, 4], mean: [1, 2, .nan, 4, 5], lower: [0, 1], upper: [2, 3]),
        ])
        let svg = chart.svg()
        XCTAssertEqual(svg.components(separatedBy: "<polyline ").count - 1, 2)
        XCTAssertEqual(svg.components(separatedBy: "<polygon ").count - 1, 0)
        let lone = Chart(title: "", xLabel: "", yLabel: "", series: [Chart.Series(name: "one", x: [5], mean: [3])]).svg()
        XCTAssertEqual(lone.components(separatedBy: "<circle ").count - 1, 1)
    }

    func testSizesAreClamped() {
        XCTAssertTrue(Self.example().svg(width: 10, height: 99_999).contains("width=\"200\" height=\"4000\""))
        XCTAssertTrue(Self.example().svg(width: -5, height: .min).contains("width=\"200\" height=\"200\""))
    }

    /// A name far wider than the chart is cut with "…", and the legend stays inside.
    func testLongNamesAreTruncatedInsideTheChart() throws {
        let text = try textRenderer()
        let long = String(repeating: "configuration ", count: 40)
        let chart = Chart(title: long, xLabel: long, yLabel: long, series: [Chart.Series(name: long, x: [0, 1], mean: [0, 1])])
        for (w, h) in [(800, 480), (200, 200)] {
            let layout = ChartLayout(chart: chart, width: w, height: h) { text.size(of: $0, style: $1) }
            let labels = [layout.title, layout.xLabel, layout.legend.first?.label].compactMap { $0 }
            XCTAssertEqual(labels.count, 3)
            for label in labels {
                XCTAssertTrue(label.text.hasSuffix("…"), label.text)
                XCTAssertGreaterThanOrEqual(label.x, 0)
                XCTAssertLessThanOrEqual(label.x + text.size(of: label.text, style: label.style).width, w)
                XCTAssertLessThanOrEqual(label.y + text.size(of: label.text, style: label.style).height, h)
            }
            let y = try XCTUnwrap(layout.yLabel)
            XCTAssertLessThanOrEqual(text.size(of: y.text, style: .body).width, layout.plot.height)
        }
        let svgLayout = ChartLayout(chart: chart, width: 800, height: 480, measure: SVGText.measure)
        XCTAssertTrue(try XCTUnwrap(svgLayout.legend.first).label.text.hasSuffix("…"))
    }

    func testLegendCellsWorkedOutByHand() {
        // They fit on one row: side by side, 10 apart.
        let one = ChartLayout.legendCells([50, 60], width: 200, gap: 10, maximumRows: 3) { _ in 40 }
        XCTAssertEqual(one.cells.map(\.x), [0, 60])
        XCTAssertEqual(one.cells.map(\.row), [0, 0])
        XCTAssertNil(one.more)
        XCTAssertEqual(one.width, 120)
        // Three of 100 in 250: cells of 110, two columns, two rows; with one row allowed,
        // "+1 more" (50) after the second would end at 270, so the second gives way too.
        let grid = ChartLayout.legendCells([100, 100, 100], width: 250, gap: 10, maximumRows: 1) { _ in 50 }
        XCTAssertEqual(grid.cells.map(\.item), [0])
        XCTAssertEqual(grid.more?.text, "+2 more")
        XCTAssertEqual(grid.more?.x, 110)
        XCTAssertEqual(grid.more?.row, 0)
        XCTAssertEqual(grid.width, 160)
        XCTAssertEqual(grid.rows, 1)
        // One column (each entry as wide as the row): "+N more" takes the next row.
        let column = ChartLayout.legendCells([200, 200, 200], width: 200, gap: 10, maximumRows: 2) { _ in 50 }
        XCTAssertEqual(column.cells.map(\.row), [0])
        XCTAssertEqual(column.more?.text, "+2 more")
        XCTAssertEqual(column.more?.row, 1)
        XCTAssertEqual(column.more?.x, 0)
    }

    /// Thirty series on a small chart: the legend keeps a quarter of the height at most and
    /// counts the rest.
    func testCrowdedLegendSaysHowManyAreLeftOut() {
        let series = (0..<30).map { Chart.Series(name: "configuration \($0)", x: [0, 1], mean: [0, Double($0)]) }
        let layout = ChartLayout(chart: Chart(title: "t", xLabel: "x", yLabel: "y", series: series),
                                 width: 400, height: 300, measure: SVGText.measure)
        let more = try? XCTUnwrap(layout.legendMore)
        XCTAssertEqual(more?.text, "+\(30 - layout.legend.count) more")
        XCTAssertGreaterThan(layout.legend.count, 0)
        XCTAssertGreaterThan(layout.plot.height, 100)
        XCTAssertLessThanOrEqual(layout.legend.map { $0.label.y }.max()! + 18, 300)
    }

    // MARK: Raster

    /// One series, mean 50 with a band 20…80 over x 0…100, a threshold at 95. Checked pixel
    /// by pixel where the layout puts the data.
    func testRasterBandLineAndThresholdPixels() throws {
        let text = try textRenderer()
        let chart = Chart(title: "pixels", xLabel: "x", yLabel: "y", series: [
            Chart.Series(name: "s", x: [0, 50, 100], mean: [50, 50, 50], lower: [20, 20, 20], upper: [80, 80, 80]),
        ], threshold: Chart.Threshold(value: 95, label: "solved"))
        let frame = chart.frame(text: text)
        XCTAssertEqual(frame.width, 800)
        XCTAssertEqual(frame.height, 480)
        let layout = ChartLayout(chart: chart, width: 800, height: 480) { text.size(of: $0, style: $1) }
        func pixel(_ x: Double, _ y: Double) -> Color {
            frame[Int(layout.xPixel(x).rounded(.down)), Int(layout.yPixel(y).rounded(.down))]
        }
        let blue = Chart.color(ofSeries: 0)
        XCTAssertEqual(blue, Color(0, 114, 178))
        // Inside the band, off the grid (ticks at multiples of 10 or 20 on y, 20 on x):
        // 20% blue over white, with a = 51 of 255:
        // red   (0 × 51 + 255 × 204 + 127) / 255 = 204
        // green (114 × 51 + 255 × 204 + 127) / 255 = 227
        // blue  (178 × 51 + 255 × 204 + 127) / 255 = 240
        XCTAssertEqual(pixel(25, 35), Color(204, 227, 240))
        XCTAssertEqual(pixel(75, 65), Color(204, 227, 240))
        // On the mean line, whose centre passes within half a pixel: the series' colour.
        XCTAssertEqual(pixel(25, 50), blue)
        XCTAssertEqual(pixel(87, 50), blue)
        // Above and below the band: the white background.
        XCTAssertEqual(pixel(25, 85), .white)
        XCTAssertEqual(pixel(25, 17), .white)
        // The threshold, dashed 8 on and 5 off from the plot's left edge: the row holding
        // y = 95 gets coverage 1.25 − d (d from its centre) of grey (120, 120, 126).
        let row = Int(layout.yPixel(95).rounded(.down))
        let d = abs(layout.yPixel(95) - (Double(row) + 0.5))
        let a = Int((min(1, 1.25 - d) * 255).rounded())
        func mix(_ c: UInt8) -> UInt8 { UInt8((Int(c) * a + 255 * (255 - a) + 127) / 255) }
        XCTAssertEqual(frame[layout.plot.x + 3, row], Color(mix(120), mix(120), mix(126)))
        XCTAssertEqual(frame[layout.plot.x + 10, row], .white, "a gap in the dashes")
        // The legend's swatch: the band's blend with the line across its middle.
        let swatch = try XCTUnwrap(layout.legend.first).swatch
        XCTAssertEqual(frame[swatch.x + 2, swatch.y + 1], Color(204, 227, 240))
        XCTAssertEqual(frame[swatch.x + 2, swatch.y + swatch.height / 2], blue)
        // The frame round-trips through a PNG.
        let path = (try makeTemporaryFolder() as NSString).appendingPathComponent("chart.png")
        try PNGFile.write(frame, to: path)
        assertFramesEqual(try PNGFile.read(path), frame)
    }

    /// Hostile and degenerate charts draw, as SVG and into frames of the requested
    /// (clamped) size, without trapping.
    func testDegenerateInputsDrawAtTheRequestedSize() throws {
        let text = try textRenderer()
        let many = (0..<5000).map(Double.init)
        let charts: [(String, Chart)] = [
            ("no series", Chart(title: "", xLabel: "", yLabel: "", series: [])),
            ("empty series", Chart(title: "t", xLabel: "x", yLabel: "y", series: [Chart.Series(name: "e", x: [], mean: [])])),
            ("one point", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "p", x: [3], mean: [7], lower: [6], upper: [8])])),
            ("all equal", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "flat", x: [5, 5, 5], mean: [0, 0, 0], lower: [0, 0, 0], upper: [0, 0, 0])],
                threshold: Chart.Threshold(value: 0, label: "zero"))),
            ("not finite", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "nan", x: [0, .nan, 2, 3, .infinity, 5], mean: [1, 2, .nan, -.infinity, 5, 6],
                             lower: [0, 1, .nan, 2, 3, 4], upper: [2, 3, 4, .infinity, 6, 7])],
                threshold: Chart.Threshold(value: .nan, label: "nan"))),
            ("only NaN", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "nan", x: [.nan, .nan], mean: [.nan, 1])])),
            ("huge", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "big", x: [-1e300, 0, 1e300], mean: [1e99, -1e99, .greatestFiniteMagnitude])])),
            ("tiny", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "small", x: [0, .leastNonzeroMagnitude, 2 * .leastNonzeroMagnitude], mean: [1e-300, 2e-300, 1e-300])])),
            ("mismatched", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "m", x: [0, 1, 2], mean: [1, 2], lower: [0], upper: [1, 2, 3, 4])])),
            ("crossed band, decreasing x", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "c", x: [3, 2, 1, 0], mean: [0, 1, 0, 1], lower: [1, 0, 2, -1], upper: [-1, 2, 0, 1])])),
            ("thousands", Chart(title: "t", xLabel: "x", yLabel: "y", series: [
                Chart.Series(name: "saw", x: many, mean: many.map { $0.truncatingRemainder(dividingBy: 2) * 1000 },
                             lower: many.map { -$0 }, upper: many)])),
            ("names", Chart(title: "<t> & \"q\"\n", xLabel: "\u{0}\t", yLabel: "é😀", series: [
                Chart.Series(name: "<&\"'>\r\n", x: [0, 1], mean: [0, 1])])),
            ("many series", Chart(title: "t", xLabel: "x", yLabel: "y", series: (0..<50).map {
                Chart.Series(name: String(repeating: "n", count: $0 * 7), x: [0, 1], mean: [0, Double($0)]) })),
        ]
        for (name, chart) in charts {
            let svg = chart.svg(width: 300, height: 250)
            XCTAssertTrue(svg.hasSuffix("</svg>\n"), name)
            XCTAssertNil(svg.range(of: #"="[^"]*(nan|inf)"#, options: .regularExpression), name)
            XCTAssertNil(svg.range(of: #"\d\.\d{3}"#, options: .regularExpression), name)
            XCTAssertNil(svg.range(of: "\u{0}"), name)
            for (w, h) in [(800, 480), (200, 200)] {
                let frame = chart.frame(width: w, height: h, text: text)
                XCTAssertEqual(frame.width, w, name)
                XCTAssertEqual(frame.height, h, name)
            }
        }
        let clamped = charts[1].1.frame(width: 3, height: 99_999, text: text)
        XCTAssertEqual(clamped.width, 200)
        XCTAssertEqual(clamped.height, 4000)
    }

    /// The example chart (three series with bands and the threshold at 475), written as
    /// PNG and SVG into a temporary folder to look at.
    func testWritesTheExampleChart() throws {
        let text = try textRenderer()
        let folder = try makeTemporaryFolder()
        let chart = Self.example()
        let png = (folder as NSString).appendingPathComponent("chart-example.png")
        let svg = (folder as NSString).appendingPathComponent("chart-example.svg")
        try PNGFile.write(chart.frame(text: text), to: png)
        try Data(chart.svg().utf8).write(to: URL(fileURLWithPath: svg))
        print("Wrote \(png) and \(svg)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: png))
    }
}

private typealias Curve = (mean: [Double], lower: [Double], upper: [Double])
