import Environments

extension Frame {
    /// The frame enlarged `factor` times by nearest neighbour: every pixel becomes a
    /// `factor × factor` block, so cell edges stay crisp.
    public func scaled(by factor: Int) -> Frame {
        precondition(factor >= 1, "a scale factor must be at least 1, got \(factor)")
        if factor == 1 { return self }
        var result = Frame(width: width * factor, height: height * factor)
        let outWidth = result.width
        pixels.withUnsafeBufferPointer { source in
            result.pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<result.height {
                    let sourceRow = (y / factor) * width * 3
                    let targetRow = y * outWidth * 3
                    for x in 0..<outWidth {
                        let s = sourceRow + (x / factor) * 3, t = targetRow + x * 3
                        target[t] = source[s]; target[t + 1] = source[s + 1]; target[t + 2] = source[s + 2]
                    }
                }
            }
        }
        return result
    }

    /// Copies `source` so its top-left corner lands at (`x`, `y`), clipped to this frame.
    public mutating func draw(_ source: Frame, atX x: Int, y: Int) {
        let x0 = max(0, x), x1 = min(width, x + source.width)
        let y0 = max(0, y), y1 = min(height, y + source.height)
        guard x0 < x1, y0 < y1 else { return }
        let rowBytes = (x1 - x0) * 3, targetWidth = width
        source.pixels.withUnsafeBufferPointer { s in
            pixels.withUnsafeMutableBufferPointer { t in
                for row in y0..<y1 {
                    let from = ((row - y) * source.width + (x0 - x)) * 3
                    let to = (row * targetWidth + x0) * 3
                    for i in 0..<rowBytes { t[to + i] = s[from + i] }
                }
            }
        }
    }

    /// The `width × height` part of the frame whose top-left corner is (`x`, `y`).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Frame {
        precondition(x >= 0 && y >= 0 && x + w <= width && y + h <= height, "crop outside the frame")
        var result = Frame(width: w, height: h)
        for row in 0..<h {
            let from = ((y + row) * width + x) * 3
            result.pixels.replaceSubrange(row * w * 3..<(row + 1) * w * 3, with: pixels[from..<from + w * 3])
        }
        return result
    }
}
