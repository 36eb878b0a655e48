import Environments

/// A frame (or part of one) as palette indices, for GIF.
///
/// **How the palette is chosen.** A picture with at most 256 distinct colours gets exactly
/// those colours, so it is stored losslessly; the grid games and CartPole draw with a
/// handful of flat colours, and with the panel most frames stay under the limit. A picture
/// with more (anti-aliased text over several backgrounds can do it) keeps its 40 most
/// frequent colours exactly (the environment's flat colours cover the most pixels, so they
/// stay exact) and maps every other pixel to the nearest colour of a fixed 6×6×6 cube
/// (levels 0, 51, ..., 255), the remaining 216 entries. The mapping is deterministic.
public struct IndexedImage: Equatable, Sendable {
    public var colors: [Color]
    public var indices: [UInt8]
    public let width: Int, height: Int

    /// Number of exactly kept colours when a picture has more than 256.
    public static let exactColorCount = 40

    /// Indexes the `rect` part of `frame`.
    public init(_ frame: Frame, rect: PixelRect? = nil) {
        let r = rect ?? PixelRect(x: 0, y: 0, width: frame.width, height: frame.height)
        width = r.width
        height = r.height
        var counts: [UInt32: Int] = [:]
        var keys = [UInt32](repeating: 0, count: r.width * r.height)
        frame.pixels.withUnsafeBufferPointer { p in
            var previous: UInt32 = .max, run = 0
            for y in 0..<r.height {
                var i = ((r.y + y) * frame.width + r.x) * 3
                for x in 0..<r.width {
                    let key = UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])
                    keys[y * r.width + x] = key
                    if key == previous {
                        run += 1
                    } else {
                        if run > 0 { counts[previous, default: 0] += run }
                        previous = key
                        run = 1
                    }
                    i += 3
                }
            }
            if run > 0 { counts[previous, default: 0] += run }
        }
        var palette: [UInt32]
        let usesCube = counts.count > 256
        if usesCube {
            palette = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(Self.exactColorCount).map(\.key)
        } else {
            palette = counts.keys.sorted()
        }
        var lookup: [UInt32: UInt8] = [:]
        for (i, key) in palette.enumerated() { lookup[key] = UInt8(i) }
        let cubeStart = palette.count
        if usesCube {
            for r6 in 0..<6 { for g6 in 0..<6 { for b6 in 0..<6 {
                palette.append(UInt32(r6 * 51) << 16 | UInt32(g6 * 51) << 8 | UInt32(b6 * 51))
            } } }
        }
        var indices = [UInt8](repeating: 0, count: keys.count)
        for (i, key) in keys.enumerated() {
            if let index = lookup[key] {
                indices[i] = index
            } else {
                let red = Int(key >> 16), green = Int((key >> 8) & 255), blue = Int(key & 255)
                let cube = ((red + 25) / 51) * 36 + ((green + 25) / 51) * 6 + (blue + 25) / 51
                indices[i] = UInt8(cubeStart + cube)
            }
        }
        self.indices = indices
        colors = palette.map { Color(UInt8($0 >> 16), UInt8(($0 >> 8) & 255), UInt8($0 & 255)) }
    }

    /// The colour of pixel (`x`, `y`).
    public subscript(x: Int, y: Int) -> Color { colors[Int(indices[y * width + x])] }
}
