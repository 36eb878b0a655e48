import ArgumentParser
import Foundation

/// The options `play` and `watch` share.
struct WindowOptions: ParsableArguments {
    @Option(help: "Seed of the first episode.")
    var seed: UInt64 = 0

    @Option(help: "Steps per second (default: depends on the environment; + and − change it while playing).")
    var fps: Double?

    @Option(help: "Enlarge the environment's frame this many times (default: about 480 pixels on its longer side).")
    var scale: Int?

    @Option(help: "Folder for screenshots taken with s.")
    var screenshots = "."

    func validate() throws {
        if let fps, !(fps > 0 && fps <= 960) { throw ValidationError("--fps must be in (0, 960], got \(fps)") }
        if let scale, !(1...16).contains(scale) { throw ValidationError("--scale must be in 1...16, got \(scale)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: screenshots, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--screenshots: the folder \(screenshots) does not exist")
        }
    }
}
