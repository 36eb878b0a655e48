import Foundation
import XCTest

/// Runs the built `agentlab` binary as a user would, each test in a fresh temporary folder.
class CommandLineTestCase: XCTestCase {
    var folder: URL!
    /// Variables added to the environment of every `agentlab` the test starts.
    var extraEnvironment: [String: String] = [:]

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("agentlab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    static var binary: URL { Bundle.main.bundleURL.appendingPathComponent("agentlab") }

    /// A process running `agentlab` with `arguments` in the test's folder (not started).
    func makeProcess(_ arguments: [String]) -> (process: Process, output: Pipe, error: Pipe) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["SDL_VIDEODRIVER"] = "offscreen"
        environment.merge(extraEnvironment) { _, new in new }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        return (process, out, err)
    }

    /// Runs `agentlab` with `arguments`; returns the exit status, stdout and stderr.
    @discardableResult
    func agentlab(_ arguments: String...) throws -> (status: Int32, output: String, error: String) {
        try agentlab(arguments)
    }

    @discardableResult
    func agentlab(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let (process, out, err) = makeProcess(arguments)
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// Starts `agentlab` with `arguments`, sends Ctrl-C after its first progress line and
    /// waits for it; returns its exit status (0 when it finished before the signal).
    func trainAndInterrupt(_ arguments: [String]) throws -> Int32 {
        let (process, out, _) = makeProcess(arguments)
        try process.run()
        var seen = ""
        while !seen.contains("steps/s") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        process.interrupt()
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func trainGridWorld(_ name: String, seed: Int = 0, steps: Int = 4_000, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try agentlab("train", "--env", "GridWorld-v0", "--algo", "a2c", "--steps", "\(steps)",
                                  "--seed", "\(seed)", "--out", path(name))
        XCTAssertEqual(result.status, 0, result.error, file: file, line: line)
    }

    /// `count` seeded mutations of `text` (one to four bytes replaced, inserted or removed,
    /// drawn from YAML's punctuation, digits and letters), the same every run.
    func mutations(of text: String, count: Int, seed: UInt64) -> [Data] {
        var state = seed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet = Array("{}[]&*!|>:-,'\"#?% \n\t0123456789.e+-abcxyz_".utf8)
        return (0..<count).map { _ in
            var bytes = Array(text.utf8)
            for _ in 0..<(1 + next() % 4) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[position] = alphabet[next() % alphabet.count]
                case 1: bytes.insert(alphabet[next() % alphabet.count], at: position)
                default: bytes.remove(at: position)
                }
            }
            return Data(bytes)
        }
    }
}
