import Environments

/// A rectangle in canvas pixels.
public struct PixelRect: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// Where things go on the canvas: the environment's frame, scaled, on the left (centred
/// vertically when the panel is taller), and the panel on the right.
///
/// Every size here is in canvas pixels; the window shows the canvas scaled to fit
/// (`letterbox(_:in:)`), recordings and screenshots store it as is.
public struct ViewerLayout: Equatable, Sendable {
    /// The panel's width.
    public static let panelWidth = 300
    /// Margin inside the panel.
    public static let margin = 16
    /// Height of one line of text.
    public static let lineHeight = 22
    /// Height of one action row (label, bar, number).
    public static let rowHeight = 24
    /// The bars' x offset inside the panel, and their full length.
    public static let barOffset = 112, barWidth = 120, barHeight = 14

    public let scale: Int
    public let frameRect: PixelRect
    public let panelRect: PixelRect
    public let actionCount: Int
    /// Rows of saliency bars below the actions (0: none).
    public let saliencyRows: Int
    public var canvasWidth: Int { panelRect.x + panelRect.width }
    public var canvasHeight: Int { panelRect.height }

    /// The scale that makes a frame about 480 pixels on its longer side, at least 1.
    public static func defaultScale(frameWidth: Int, frameHeight: Int) -> Int {
        max(1, 480 / max(frameWidth, frameHeight))
    }

    public init(frameWidth: Int, frameHeight: Int, scale: Int, actionCount: Int, saliencyRows: Int = 0) {
        precondition(scale >= 1, "scale must be at least 1, got \(scale)")
        self.scale = scale
        self.actionCount = actionCount
        self.saliencyRows = saliencyRows
        let scaledWidth = frameWidth * scale, scaledHeight = frameHeight * scale
        let height = max(scaledHeight, Self.panelHeight(actionCount: actionCount, saliencyRows: saliencyRows))
        frameRect = PixelRect(x: 0, y: (height - scaledHeight) / 2, width: scaledWidth, height: scaledHeight)
        panelRect = PixelRect(x: scaledWidth, y: 0, width: Self.panelWidth, height: height)
    }

    /// Lines of text above the action rows: title, episode, step, return, last action,
    /// a gap, the scores heading.
    static let headerLines = 7
    /// Lines below: a gap, status, two lines of key help.
    static let footerLines = 4

    /// The least height that fits the panel's text for `actionCount` actions.
    public static func panelHeight(actionCount: Int, saliencyRows: Int = 0) -> Int {
        2 * margin + (headerLines + footerLines) * lineHeight + actionCount * rowHeight + saliencyHeight(saliencyRows)
    }

    /// A heading line and the rows, when there are any.
    static func saliencyHeight(_ rows: Int) -> Int { rows > 0 ? lineHeight + rows * rowHeight : 0 }

    /// Top of the saliency heading, below the action rows.
    public var saliencyHeadingTop: Int { rowTop(actionCount) + 4 }

    /// The track of saliency row `index`, and its top.
    public func saliencyTrack(_ index: Int) -> PixelRect {
        var track = barTrack(actionCount)
        track.y += Self.lineHeight + index * Self.rowHeight
        return track
    }

    public func saliencyRowTop(_ index: Int) -> Int { rowTop(actionCount) + Self.lineHeight + index * Self.rowHeight }

    /// Top of text line `line` (0-based) of the header.
    public func lineTop(_ line: Int) -> Int { Self.margin + line * Self.lineHeight }

    /// The full-length bar track of action `index`; the filled part starts at its left.
    public func barTrack(_ index: Int) -> PixelRect {
        let top = lineTop(Self.headerLines) + index * Self.rowHeight
        return PixelRect(
            x: panelRect.x + Self.barOffset, y: top + (Self.rowHeight - Self.barHeight) / 2 - 2,
            width: Self.barWidth, height: Self.barHeight)
    }

    /// Top of action row `index`.
    public func rowTop(_ index: Int) -> Int { lineTop(Self.headerLines) + index * Self.rowHeight }

    /// Top of footer line `line`.
    public func footerTop(_ line: Int) -> Int {
        rowTop(actionCount) + Self.saliencyHeight(saliencyRows) + (line + 1) * Self.lineHeight - Self.lineHeight / 2
    }
}

/// The largest rectangle with `content`'s aspect ratio that fits in `window`, centred
/// (the rest is black bars): how the window shows the canvas when resized.
public func letterbox(
    _ content: (width: Int, height: Int), in window: (width: Int, height: Int)
) -> PixelRect {
    guard content.width > 0, content.height > 0, window.width > 0, window.height > 0 else {
        return PixelRect(x: 0, y: 0, width: 0, height: 0)
    }
    // Compare window.width / window.height with content.width / content.height exactly.
    if window.width * content.height <= window.height * content.width {
        let height = window.width * content.height / content.width
        return PixelRect(x: 0, y: (window.height - height) / 2, width: window.width, height: height)
    } else {
        let width = window.height * content.width / content.height
        return PixelRect(x: (window.width - width) / 2, y: 0, width: width, height: window.height)
    }
}
