import CGIF
import Environments
import Foundation
import Viewer
import XCTest

/// Makes SDL use its offscreen driver (no window on any screen, no X server needed).
/// Call before anything starts SDL's video.
func useHeadlessVideo() {
    setenv("SDL_VIDEODRIVER", "offscreen", 1)
}

/// A fresh empty folder under the temporary directory.
func makeTemporaryFolder(_ name: String = #function) throws -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = (NSTemporaryDirectory() as NSString)
        .appendingPathComponent("ViewerTests-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Plays the same actions as a scripted sequence; scores as given.
struct ScriptedAdvisor: ActionAdvisor {
    var advice: [Advice]
    var next = 0
    mutating func advise(_ observation: [Float]) -> Advice {
        defer { next += 1 }
        return advice[next % advice.count]
    }
}

/// An animated GIF decoded with giflib's DGifSlurp, each frame composited over the
/// previous one (the writer stores changed rectangles with "do not dispose").
struct DecodedGIF {
    var width: Int
    var height: Int
    var frames: [Frame]
    /// Hundredths of a second per frame.
    var delays: [Int]
    /// Whether the NETSCAPE2.0 looping extension is present.
    var loops: Bool

    init(path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var error: Int32 = 0
        guard let gif = DGifOpenFileName(path, &error) else {
            XCTFail("DGifOpenFileName failed with \(error)", file: file, line: line)
            throw CocoaError(.fileReadCorruptFile)
        }
        defer { DGifCloseFile(gif, &error) }
        guard DGifSlurp(gif) == GIF_OK else {
            XCTFail("DGifSlurp failed with \(gif.pointee.Error)", file: file, line: line)
            throw CocoaError(.fileReadCorruptFile)
        }
        width = Int(gif.pointee.SWidth)
        height = Int(gif.pointee.SHeight)
        frames = []
        delays = []
        loops = false
        var canvas = Frame(width: width, height: height)
        for i in 0..<Int(gif.pointee.ImageCount) {
            let saved = gif.pointee.SavedImages[i]
            for e in 0..<Int(saved.ExtensionBlockCount) {
                let block = saved.ExtensionBlocks[e]
                if block.Function == APPLICATION_EXT_FUNC_CODE, block.ByteCount == 11,
                   String(decoding: UnsafeBufferPointer(start: block.Bytes, count: 11), as: UTF8.self) == "NETSCAPE2.0"
                {
                    loops = true
                }
            }
            var control = GraphicsControlBlock()
            if DGifSavedExtensionToGCB(gif, Int32(i), &control) == GIF_OK {
                delays.append(Int(control.DelayTime))
            } else {
                delays.append(0)
            }
            let d = saved.ImageDesc
            guard let map = d.ColorMap ?? gif.pointee.SColorMap else { throw CocoaError(.fileReadCorruptFile) }
            for y in 0..<Int(d.Height) {
                for x in 0..<Int(d.Width) {
                    let index = Int(saved.RasterBits[y * Int(d.Width) + x])
                    let c = map.pointee.Colors[index]
                    canvas[Int(d.Left) + x, Int(d.Top) + y] = Color(c.Red, c.Green, c.Blue)
                }
            }
            frames.append(canvas)
        }
    }
}

/// Asserts two frames are equal, naming the first differing pixel.
func assertFramesEqual(
    _ actual: Frame, _ expected: Frame, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.width == expected.width, actual.height == expected.height else {
        XCTFail("size \(actual.width)×\(actual.height) ≠ \(expected.width)×\(expected.height) \(message())",
                file: file, line: line)
        return
    }
    guard actual.pixels != expected.pixels else { return }
    for y in 0..<actual.height {
        for x in 0..<actual.width where actual[x, y] != expected[x, y] {
            XCTFail("pixel (\(x), \(y)) is \(actual[x, y]), expected \(expected[x, y]) \(message())",
                    file: file, line: line)
            return
        }
    }
}
