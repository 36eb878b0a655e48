/// An RGB picture that an environment draws of itself: `width × height` pixels, three
/// bytes each (red, green, blue), rows top to bottom. The viewer, the recorder and the
/// tests all read this one buffer.
public struct Frame: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, row-major, RGB.
    public var pixels: [UInt8]

    /// A frame filled with one colour.
    public init(width: Int, height: Int, fill: Color = .black) {
        precondition(width > 0 && height > 0, "a frame needs a positive size")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        if fill != .black { fillRectangle(x: 0, y: 0, width: width, height: height, color: fill) }
    }

    /// The colour at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Color {
        get {
            let i = (y * width + x) * 3
            return Color(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.red; pixels[i + 1] = newValue.green; pixels[i + 2] = newValue.blue
        }
    }

    /// Fills the part of the rectangle that lies inside the frame.
    public mutating func fillRectangle(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            for column in x0..<x1 { self[column, row] = color }
        }
    }

    /// Draws a line of the given thickness from (x0, y0) to (x1, y1), clipped to the frame.
    public mutating func drawLine(
        from start: (x: Double, y: Double), to end: (x: Double, y: Double),
        thickness: Double, color: Color
    ) {
        let dx = end.x - start.x, dy = end.y - start.y
        let steps = max(1, Int((dx * dx + dy * dy).squareRoot() * 2))
        let r = max(0.5, thickness / 2)
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            let cx = start.x + dx * t, cy = start.y + dy * t
            fillDisc(centerX: cx, centerY: cy, radius: r, color: color)
        }
    }

    /// Fills the pixels whose centres lie inside the convex polygon `corners` (either
    /// winding), clipped to the frame.
    public mutating func fillConvexPolygon(_ corners: [(x: Double, y: Double)], color: Color) {
        let xs = corners.map(\.x), ys = corners.map(\.y)
        let x0 = max(0, Int(xs.min()!.rounded(.down))), x1 = min(width - 1, Int(xs.max()!.rounded(.up)))
        let y0 = max(0, Int(ys.min()!.rounded(.down))), y1 = min(height - 1, Int(ys.max()!.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for row in y0...y1 {
            for column in x0...x1 {
                let px = Double(column) + 0.5, py = Double(row) + 0.5
                var hasPositive = false, hasNegative = false
                for i in corners.indices {
                    let a = corners[i], b = corners[(i + 1) % corners.count]
                    let cross = (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x)
                    if cross > 0 { hasPositive = true } else if cross < 0 { hasNegative = true }
                }
                if !(hasPositive && hasNegative) { self[column, row] = color }
            }
        }
    }

    /// Fills a disc, clipped to the frame.
    public mutating func fillDisc(centerX: Double, centerY: Double, radius: Double, color: Color) {
        let x0 = max(0, Int((centerX - radius).rounded(.down)))
        let x1 = min(width - 1, Int((centerX + radius).rounded(.up)))
        let y0 = max(0, Int((centerY - radius).rounded(.down)))
        let y1 = min(height - 1, Int((centerY + radius).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let ddx = Double(x) + 0.5 - centerX, ddy = Double(y) + 0.5 - centerY
                if ddx * ddx + ddy * ddy <= radius * radius { self[x, y] = color }
            }
        }
    }
}

/// An RGB colour.
public struct Color: Equatable, Hashable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red; self.green = green; self.blue = blue
    }

    public static let black = Color(0, 0, 0)
    public static let white = Color(255, 255, 255)
    /// The dark background of the grid games.
    public static let background = Color(18, 18, 28)
}
