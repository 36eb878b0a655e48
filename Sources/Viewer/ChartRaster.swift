import Environments

extension Chart {
    /// The chart drawn into an RGB frame, `width × height` pixels (each clamped to
    /// `sizeRange`) on white, its text with `text`. Lines are anti-aliased; bands are
    /// the series' colour blended at `bandOpacity`; data is clipped to the plot area.
    public func frame(width: Int = 800, height: Int = 480, text: TextRenderer) -> Frame {
        let layout = ChartLayout(chart: self, width: width, height: height) { text.size(of: $0, style: $1) }
        var canvas = Frame(width: layout.width, height: layout.height, fill: Ink.background)
        let p = layout.plot, bottom = p.y + p.height

        // Grid: one-pixel lines at the ticks, inside the plot.
        for t in layout.xTicks where t.pixel >= p.x && t.pixel < p.x + p.width {
            canvas.fill(PixelRect(x: t.pixel, y: p.y, width: 1, height: p.height), with: Ink.grid)
        }
        for t in layout.yTicks where t.pixel >= p.y && t.pixel < bottom {
            canvas.fill(PixelRect(x: p.x, y: t.pixel, width: p.width, height: 1), with: Ink.grid)
        }

        // Bands, each filled once into a coverage mask and blended once (so a band's own
        // pieces never darken where they meet).
        var coverage = Coverage(p, within: canvas)
        for (i, curve) in layout.curves.enumerated() where !curve.bands.isEmpty {
            coverage.clear()
            for band in curve.bands {
                for (a, b) in zip(band, band.dropFirst()) {
                    coverage.fill([(a.x, a.upper), (b.x, b.upper), (b.x, b.lower), (a.x, a.lower)])
                }
            }
            coverage.blend(into: &canvas, color: Chart.color(ofSeries: i), opacity: Chart.bandOpacity)
        }

        // The threshold: 8 pixels on, 5 off.
        if let t = layout.threshold {
            coverage.clear()
            var x = Double(p.x)
            while x < Double(p.x + p.width) {
                coverage.stroke(from: (x, t.y), to: (min(x + 8, Double(p.x + p.width)), t.y), halfWidth: 0.75, caps: false)
                x += 13
            }
            coverage.blend(into: &canvas, color: Ink.threshold, opacity: 1)
        }

        // Mean lines, round-joined; a lone point is a dot.
        for (i, curve) in layout.curves.enumerated() where !curve.lines.isEmpty {
            coverage.clear()
            for line in curve.lines {
                if line.count == 1 {
                    coverage.stroke(from: line[0], to: line[0], halfWidth: 2.5)
                } else {
                    for (a, b) in zip(line, line.dropFirst()) { coverage.stroke(from: a, to: b, halfWidth: Chart.lineWidth / 2) }
                }
            }
            coverage.blend(into: &canvas, color: Chart.color(ofSeries: i), opacity: 1)
        }

        // Axes (just outside the plot, left and below) and tick marks.
        canvas.fill(PixelRect(x: p.x - 1, y: p.y, width: 1, height: p.height + 1), with: Ink.axis)
        canvas.fill(PixelRect(x: p.x - 1, y: bottom, width: p.width + 1, height: 1), with: Ink.axis)
        for t in layout.xTicks {
            canvas.fill(PixelRect(x: t.pixel, y: bottom + 1, width: 1, height: ChartLayout.tickLength), with: Ink.axis)
        }
        for t in layout.yTicks {
            canvas.fill(PixelRect(x: p.x - 1 - ChartLayout.tickLength, y: t.pixel, width: ChartLayout.tickLength, height: 1),
                        with: Ink.axis)
        }

        func draw(_ label: ChartLayout.Label?, _ color: Color) {
            guard let label else { return }
            text.draw(label.text, style: label.style, into: &canvas, x: label.x, y: label.y, color: color)
        }
        for t in layout.xTicks + layout.yTicks { draw(t.label, Ink.tickText) }
        draw(layout.threshold?.label, Ink.threshold)
        draw(layout.title, Ink.text)
        draw(layout.xLabel, Ink.text)
        if let label = layout.yLabel { drawTurned(label, text: text, into: &canvas, color: Ink.text) }

        for entry in layout.legend {
            let s = entry.swatch, color = Chart.color(ofSeries: entry.series)
            if entry.hasBand {
                for y in s.y..<(s.y + s.height) {
                    for x in s.x..<(s.x + s.width) { canvas.blend(x: x, y: y, color: color, alpha: Coverage.alpha(Chart.bandOpacity)) }
                }
            }
            canvas.fill(PixelRect(x: s.x, y: s.y + s.height / 2 - 1, width: s.width, height: 2), with: color)
            draw(entry.label, Ink.text)
        }
        draw(layout.legendMore, Ink.tickText)
        return canvas
    }

    /// `label` turned a quarter anticlockwise (reading upwards), its rotated box's
    /// top-left corner at the label's x, y; clipped.
    private func drawTurned(_ label: ChartLayout.Label, text: TextRenderer, into frame: inout Frame, color: Color) {
        let mask = text.mask(label.text, style: label.style)
        for row in 0..<mask.height {
            for column in 0..<mask.width {
                let a = Int(mask.alpha[row * mask.width + column])
                frame.blend(x: label.x + row, y: label.y + mask.width - 1 - column, color: color, alpha: a)
            }
        }
    }
}

/// How much of each pixel of a rectangle a shape covers, 0 to 1: shapes are drawn into
/// it (a pixel keeps the largest coverage any of them gives it) and the result blended
/// into a frame once. Everything outside the rectangle is clipped.
private struct Coverage {
    let rect: PixelRect
    var values: [Float]

    /// A mask over the part of `rect` inside `frame`.
    init(_ rect: PixelRect, within frame: Frame) {
        let x0 = max(0, rect.x), y0 = max(0, rect.y)
        let x1 = min(frame.width, rect.x + rect.width), y1 = min(frame.height, rect.y + rect.height)
        self.rect = PixelRect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
        values = [Float](repeating: 0, count: self.rect.width * self.rect.height)
    }

    static func pixel(_ v: Double) -> Int { ChartLayout.pixel(v) }

    /// `opacity` as a blending weight out of 255.
    static func alpha(_ opacity: Double) -> Int { Int((min(max(opacity, 0), 1) * 255).rounded()) }

    mutating func clear() {
        for i in values.indices { values[i] = 0 }
    }

    private mutating func cover(column: Int, row: Int, _ amount: Float) {
        let i = (row - rect.y) * rect.width + column - rect.x
        if amount > values[i] { values[i] = amount }
    }

    /// A line from `a` to `b`, `2 × halfWidth` wide, anti-aliased: a pixel whose centre
    /// lies d from the segment gets `halfWidth + 0.5 − d`, clamped to 0…1. With `caps`
    /// the ends are round; without, cut square at `a` and `b`.
    mutating func stroke(from a: (x: Double, y: Double), to b: (x: Double, y: Double), halfWidth: Double, caps: Bool = true) {
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite, rect.width > 0, rect.height > 0 else { return }
        let reach = halfWidth + 0.5
        let dx = b.x - a.x, dy = b.y - a.y, lengthSquared = dx * dx + dy * dy
        let rowLo = max(rect.y, Self.pixel(min(a.y, b.y) - reach))
        let rowHi = min(rect.y + rect.height - 1, Self.pixel(max(a.y, b.y) + reach))
        guard rowLo <= rowHi else { return }
        for row in rowLo...rowHi {
            let cy = Double(row) + 0.5
            // Only the stretch of the segment within `reach` of this row can cover it.
            var t0 = 0.0, t1 = 1.0
            if dy != 0 {
                let ta = (cy - reach - a.y) / dy, tb = (cy + reach - a.y) / dy
                t0 = max(0, min(ta, tb)); t1 = min(1, max(ta, tb))
                if t0 > t1 { continue }
            }
            let xa = a.x + dx * t0, xb = a.x + dx * t1
            let columnLo = max(rect.x, Self.pixel(min(xa, xb) - reach))
            let columnHi = min(rect.x + rect.width - 1, Self.pixel(max(xa, xb) + reach))
            guard columnLo <= columnHi else { continue }
            for column in columnLo...columnHi {
                let cx = Double(column) + 0.5
                let along = lengthSquared > 0 ? ((cx - a.x) * dx + (cy - a.y) * dy) / lengthSquared : 0
                if !caps && (along < 0 || along > 1) { continue }
                let t = min(max(along, 0), 1)
                let ex = a.x + dx * t - cx, ey = a.y + dy * t - cy
                let amount = min(1, reach - (ex * ex + ey * ey).squareRoot())
                if amount > 0 { cover(column: column, row: row, Float(amount)) }
            }
        }
    }

    /// The inside of `polygon` (even–odd rule), by scanlines: each pixel whose centre is
    /// inside is covered fully.
    mutating func fill(_ polygon: [(x: Double, y: Double)]) {
        guard polygon.count >= 3, rect.width > 0, rect.height > 0,
              polygon.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { return }
        let ys = polygon.map(\.y)
        let rowLo = max(rect.y, Self.pixel(ys.min()!)), rowHi = min(rect.y + rect.height - 1, Self.pixel(ys.max()!))
        guard rowLo <= rowHi else { return }
        var crossings: [Double] = []
        for row in rowLo...rowHi {
            let cy = Double(row) + 0.5
            crossings.removeAll(keepingCapacity: true)
            var j = polygon.count - 1
            for i in polygon.indices {
                let p = polygon[i], q = polygon[j]
                if (p.y <= cy) != (q.y <= cy) { crossings.append(p.x + (cy - p.y) / (q.y - p.y) * (q.x - p.x)) }
                j = i
            }
            crossings.sort()
            for k in stride(from: 0, to: crossings.count - 1, by: 2) {
                // Pixels whose centre c has crossings[k] <= c < crossings[k + 1], from
                // ceil(crossings[k] - 0.5) = -floor(0.5 - crossings[k]).
                let from = max(rect.x, -Self.pixel(0.5 - crossings[k]))
                let to = min(rect.x + rect.width - 1, -Self.pixel(0.5 - crossings[k + 1]) - 1)
                if from <= to { for column in from...to { cover(column: column, row: row, 1) } }
            }
        }
    }

    /// Blends `color` into `frame` with weight coverage × `opacity` at every pixel.
    func blend(into frame: inout Frame, color: Color, opacity: Double) {
        guard rect.width > 0 else { return }
        for row in rect.y..<(rect.y + rect.height) {
            for column in rect.x..<(rect.x + rect.width) {
                let amount = values[(row - rect.y) * rect.width + column - rect.x]
                if amount > 0 { frame.blend(x: column, y: row, color: color, alpha: Self.alpha(Double(amount) * opacity)) }
            }
        }
    }
}

private extension Frame {
    /// Mixes `color` into the pixel at (`x`, `y`) with weight `alpha` out of 255, as
    /// `TextRenderer` does: (color × a + old × (255 − a) + 127) / 255. Ignores pixels
    /// outside the frame.
    mutating func blend(x: Int, y: Int, color: Color, alpha: Int) {
        guard x >= 0, x < width, y >= 0, y < height, alpha > 0 else { return }
        let a = min(alpha, 255), i = (y * width + x) * 3
        func mix(_ new: UInt8, _ old: UInt8) -> UInt8 { UInt8((Int(new) * a + Int(old) * (255 - a) + 127) / 255) }
        pixels[i] = mix(color.red, pixels[i])
        pixels[i + 1] = mix(color.green, pixels[i + 1])
        pixels[i + 2] = mix(color.blue, pixels[i + 2])
    }
}
