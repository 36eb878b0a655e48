import Environments

/// Draws a scene, the environment's frame scaled by nearest neighbour beside the panel,
/// into one RGB `Frame` (the canvas). The window, screenshots, recordings and tests all
/// use this one drawing path, so they show the same pixels.
public final class SceneRenderer {
    /// The panel's colours.
    public enum Palette {
        public static let canvas = Color(10, 10, 14)
        public static let panel = Color(28, 30, 40)
        public static let text = Color(232, 232, 238)
        public static let dimText = Color(150, 152, 168)
        public static let chosenRow = Color(50, 54, 74)
        public static let barTrack = Color(58, 61, 78)
        public static let bar = Color(92, 150, 232)
        public static let negativeBar = Color(220, 92, 82)
        public static let chosen = Color(250, 200, 64)
        /// A Gaussian policy's ± one standard deviation behind its mean's marker.
        public static let spread = Color(70, 100, 150)
        /// Saliency: cells are tinted toward it in proportion, and its bars are drawn in it.
        public static let saliency = Color(255, 64, 160)
    }

    /// The most observation floats shown as saliency bars.
    public static let maximumSaliencyRows = 16

    public let layout: ViewerLayout
    public let text: TextRenderer

    public init(layout: ViewerLayout, text: TextRenderer) {
        self.layout = layout
        self.text = text
    }

    /// A renderer for frames of `frameWidth × frameHeight` at `scale` (default: about 480
    /// pixels on the longer side) and `actionCount` actions.
    /// `saliencyRows` leaves room for that many saliency bars (vector observations).
    public convenience init(
        frameWidth: Int, frameHeight: Int, scale: Int? = nil, actionCount: Int, saliencyRows: Int = 0,
        fontPath: String = TextRenderer.defaultFontPath
    ) throws(ViewerError) {
        let scale = scale ?? ViewerLayout.defaultScale(frameWidth: frameWidth, frameHeight: frameHeight)
        let layout = ViewerLayout(frameWidth: frameWidth, frameHeight: frameHeight, scale: scale, actionCount: actionCount,
                                  saliencyRows: min(saliencyRows, Self.maximumSaliencyRows))
        self.init(layout: layout, text: try TextRenderer(fontPath: fontPath))
    }

    /// The canvas for `frame` (the environment's own picture) and `panel`.
    public func render(frame: Frame, panel: PanelModel) -> Frame {
        var canvas = Frame(width: layout.canvasWidth, height: layout.canvasHeight, fill: Palette.canvas)
        precondition(frame.width * layout.scale == layout.frameRect.width
                     && frame.height * layout.scale == layout.frameRect.height,
                     "the frame is \(frame.width)×\(frame.height), the layout expects \(layout.frameRect.width / layout.scale)×\(layout.frameRect.height / layout.scale)")
        canvas.draw(frame.scaled(by: layout.scale), atX: layout.frameRect.x, y: layout.frameRect.y)
        if case .grid(let rows, let columns, let values) = panel.saliency {
            canvas.tint(layout.frameRect, rows: rows, columns: columns, by: values, toward: Palette.saliency)
        }
        drawPanel(panel, into: &canvas)
        if case .components(let rows) = panel.saliency, layout.saliencyRows > 0 {
            drawSaliencyRows(rows, into: &canvas)
        }
        return canvas
    }

    /// The heading and one bar per observation float, below the action rows.
    private func drawSaliencyRows(_ rows: [PanelModel.ActionRow], into canvas: inout Frame) {
        let left = layout.panelRect.x + ViewerLayout.margin
        text.draw("Saliency |d score / d obs|", into: &canvas, x: left, y: layout.saliencyHeadingTop, color: Palette.dimText)
        for (i, row) in rows.prefix(layout.saliencyRows).enumerated() {
            let track = layout.saliencyTrack(i)
            text.draw(row.name, into: &canvas, x: left, y: layout.saliencyRowTop(i), color: Palette.text)
            canvas.fill(track, with: Palette.barTrack)
            var filled = track
            filled.width = PanelModel.filledLength(row.barFraction ?? 0, width: track.width)
            canvas.fill(filled, with: Palette.saliency)
            if let score = row.scoreText {
                text.draw(score, style: .small, into: &canvas, x: track.x + track.width + 8,
                          y: layout.saliencyRowTop(i) + 2, color: Palette.text)
            }
        }
    }

    private func drawPanel(_ panel: PanelModel, into canvas: inout Frame) {
        let p = layout.panelRect, margin = ViewerLayout.margin
        canvas.fill(p, with: Palette.panel)
        let left = p.x + margin, valueColumn = p.x + ViewerLayout.barOffset
        text.draw(panel.title, style: .title, into: &canvas, x: left, y: layout.lineTop(0) - 2, color: Palette.text)
        for (i, line) in panel.statLines.enumerated() {
            let top = layout.lineTop(i + 1)
            text.draw(line.label, into: &canvas, x: left, y: top, color: Palette.dimText)
            text.draw(line.value, into: &canvas, x: valueColumn, y: top, color: Palette.text)
        }
        text.draw(panel.scoresHeading, into: &canvas, x: left, y: layout.lineTop(ViewerLayout.headerLines - 1),
                  color: Palette.dimText)
        for (i, row) in panel.rows.enumerated() {
            let top = layout.rowTop(i)
            if row.isChosen {
                canvas.fill(PixelRect(x: p.x + 6, y: top - 3, width: p.width - 12, height: ViewerLayout.rowHeight),
                            with: Palette.chosenRow)
            }
            let nameColor = row.isChosen ? Palette.chosen : Palette.text
            text.draw(row.name, into: &canvas, x: left, y: top, color: nameColor)
            if let fraction = row.barFraction {
                let track = layout.barTrack(i)
                canvas.fill(track, with: Palette.barTrack)
                var filled = track
                filled.width = PanelModel.filledLength(fraction, width: track.width)
                let color = row.isChosen ? Palette.chosen : row.isNegative ? Palette.negativeBar : Palette.bar
                canvas.fill(filled, with: color)
            }
            if let marker = row.markerFraction {
                let track = layout.barTrack(i)
                canvas.fill(track, with: Palette.barTrack)
                if let spread = row.spreadFraction {
                    let start = PanelModel.filledLength(spread.lowerBound, width: track.width)
                    let end = PanelModel.filledLength(spread.upperBound, width: track.width)
                    canvas.fill(PixelRect(x: track.x + start, y: track.y, width: max(1, end - start), height: track.height),
                                with: Palette.spread)
                }
                // The zero line where zero is inside the bounds, then the value's marker.
                if let zero = row.zeroFraction {
                    canvas.fill(PixelRect(x: track.x + PanelModel.filledLength(zero, width: track.width), y: track.y,
                                          width: 1, height: track.height), with: Palette.dimText)
                }
                let x = track.x + min(track.width - 3, PanelModel.filledLength(marker, width: track.width) - 1)
                canvas.fill(PixelRect(x: max(track.x, x), y: track.y - 2, width: 3, height: track.height + 4),
                            with: row.isNegative ? Palette.negativeBar : Palette.bar)
            }
            let after = layout.barTrack(i).x + ViewerLayout.barWidth + 8
            if let score = row.scoreText {
                text.draw(score, style: .small, into: &canvas, x: after, y: top + 2, color: nameColor)
            } else if let key = row.keyLabel {
                text.draw(key, into: &canvas, x: valueColumn, y: top, color: nameColor)
            }
        }
        text.draw(panel.status, into: &canvas, x: left, y: layout.footerTop(0), color: Palette.text)
        for (i, line) in panel.help.prefix(2).enumerated() {
            text.draw(line, style: .small, into: &canvas, x: left, y: layout.footerTop(1) + i * 18,
                      color: Palette.dimText)
        }
    }
}

extension Frame {
    /// Blends each cell of a `rows × columns` grid over `rect` toward `color` by
    /// 0.8 × its value (values in 0...1, row-major), so the strongest cells stand out
    /// and the picture stays visible under the rest.
    public mutating func tint(_ rect: PixelRect, rows: Int, columns: Int, by values: [Double], toward color: Color) {
        guard rows > 0, columns > 0, values.count == rows * columns else { return }
        let w = width, target = [Double(color.red), Double(color.green), Double(color.blue)]
        pixels.withUnsafeMutableBufferPointer { p in
            for y in max(0, rect.y)..<min(height, rect.y + rect.height) {
                let row = min(rows - 1, (y - rect.y) * rows / rect.height)
                for x in max(0, rect.x)..<min(w, rect.x + rect.width) {
                    let column = min(columns - 1, (x - rect.x) * columns / rect.width)
                    let alpha = 0.8 * min(1, max(0, values[row * columns + column]))
                    guard alpha > 0.01 else { continue }
                    let i = (y * w + x) * 3
                    for k in 0..<3 {
                        p[i + k] = UInt8((Double(p[i + k]) * (1 - alpha) + target[k] * alpha).rounded())
                    }
                }
            }
        }
    }

    /// Fills the part of `rect` inside the frame with `color`.
    public mutating func fill(_ rect: PixelRect, with color: Color) {
        let x0 = max(0, rect.x), x1 = min(width, rect.x + rect.width)
        let y0 = max(0, rect.y), y1 = min(height, rect.y + rect.height)
        guard x0 < x1, y0 < y1 else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in y0..<y1 {
                var i = (y * w + x0) * 3
                for _ in x0..<x1 {
                    p[i] = color.red; p[i + 1] = color.green; p[i + 2] = color.blue
                    i += 3
                }
            }
        }
    }
}
