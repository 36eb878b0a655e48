import Foundation
import Synchronization

/// A request to a Gymnasium worker, built as the frame it is sent as: a `u32` length, the
/// opcode, then little-endian fields (docs/gymnasium-bridge.md).
struct GymnasiumMessage {
    enum Opcode: UInt8 { case make = 1, reset = 2, step = 3, render = 4, close = 5 }

    private(set) var bytes: [UInt8]

    init(opcode: Opcode, capacity: Int = 16) {
        bytes = [0, 0, 0, 0, opcode.rawValue]
        bytes.reserveCapacity(capacity + 5)
        setLength()
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        setLength()
    }

    mutating func append(_ value: Float) { append(value.bitPattern) }

    mutating func append(string: String) {
        append(UInt32(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
        setLength()
    }

    mutating func append(floats: UnsafeBufferPointer<Float>) {
        // Little-endian hosts (x86-64, arm64) lay floats out as the protocol does.
        bytes.append(contentsOf: UnsafeRawBufferPointer(floats))
        setLength()
    }

    private mutating func setLength() {
        let length = UInt32(bytes.count - 4)
        bytes[0] = UInt8(length & 0xff); bytes[1] = UInt8(length >> 8 & 0xff)
        bytes[2] = UInt8(length >> 16 & 0xff); bytes[3] = UInt8(length >> 24)
    }
}

/// Reads a reply's fields in order, refusing any read past its end.
struct GymnasiumReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int
    private let id: String

    init(_ bytes: ArraySlice<UInt8>, id: String) {
        self.bytes = bytes
        position = bytes.startIndex
        self.id = id
    }

    var isAtEnd: Bool { position == bytes.endIndex }

    private mutating func take(_ count: Int) throws(GymnasiumError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.endIndex - position >= count else {
            throw .protocolViolation(id: id, detail: "a reply shorter than its fields")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GymnasiumError) -> T {
        let slice = try take(MemoryLayout<T>.size)
        var value: T = 0
        for (shift, byte) in slice.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * shift) }
        return value
    }

    mutating func readDouble() throws(GymnasiumError) -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// Copies `count` floats into `destination`.
    mutating func readFloats(into destination: UnsafeMutableBufferPointer<Float>) throws(GymnasiumError) {
        let slice = try take(destination.count * 4)
        slice.withUnsafeBytes { raw in
            UnsafeMutableRawBufferPointer(destination).copyMemory(from: raw)
        }
    }

    /// `count` floats, allocated only once the reply is known to hold them.
    mutating func readFloats(count: Int) throws(GymnasiumError) -> [Float] {
        let slice = try take(count * 4)
        return slice.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }

    mutating func readBytes(count: Int) throws(GymnasiumError) -> ArraySlice<UInt8> { try take(count) }

    mutating func readString() throws(GymnasiumError) -> String {
        let count = Int(try read(UInt32.self))
        return String(decoding: try take(count), as: UTF8.self)
    }

    /// A shape: `u32 ndim`, then the dimensions, each positive, their product bounded.
    mutating func readShape(limit: Int) throws(GymnasiumError) -> [Int] {
        let ndim = Int(try read(UInt32.self))
        guard ndim <= 8 else { throw .protocolViolation(id: id, detail: "a shape of \(ndim) dimensions") }
        var shape = [Int](), size = 1
        for _ in 0..<ndim {
            let dimension = Int(try read(UInt32.self))
            guard dimension > 0, dimension <= limit, size <= limit / dimension else {
                throw .protocolViolation(id: id, detail: "a space of more than \(limit) elements")
            }
            shape.append(dimension)
            size *= dimension
        }
        return shape
    }
}

/// What a worker says its environment is (MAKE's reply).
struct GymnasiumDescription: Sendable {
    var observationSpace: Box
    var actionSpace: ActionSpace
    /// Gymnasium's `TimeLimit`, applied in Python; nil when there is none.
    var maxEpisodeSteps: Int?
    var rewardThreshold: Double?
    var renderFPS: Int?
    /// The spec's id and the environment's class.
    var summary: String

    init(reading reader: inout GymnasiumReader, id: String) throws(GymnasiumError) {
        let version = try reader.read(UInt32.self)
        guard version == GymnasiumBridge.protocolVersion else {
            throw .protocolViolation(id: id, detail: "protocol version \(version), expected \(GymnasiumBridge.protocolVersion)")
        }
        func box(shape: [Int]) throws(GymnasiumError) -> Box {
            let count = shape.reduce(1, *)
            let low = try reader.readFloats(count: count), high = try reader.readFloats(count: count)
            guard zip(low, high).allSatisfy({ !$0.isNaN && !$1.isNaN && $0 <= $1 }) else {
                throw .protocolViolation(id: id, detail: "a Box whose bounds are NaN or crossed")
            }
            return Box(low: low, high: high, shape: shape)
        }
        observationSpace = try box(shape: try reader.readShape(limit: GymnasiumBridge.maximumObservationSize))
        switch try reader.read(UInt8.self) {
        case 0:
            let n = try reader.read(Int64.self)
            _ = try reader.read(Int64.self)  // `start`: the worker adds it to each action
            guard n > 0, n <= 1 << 20 else { throw .protocolViolation(id: id, detail: "Discrete(\(n))") }
            actionSpace = .discrete(Discrete(Int(n)))
        case 1:
            actionSpace = .box(try box(shape: try reader.readShape(limit: 1 << 16)))
        case let kind:
            throw .protocolViolation(id: id, detail: "action kind \(kind)")
        }
        let steps = try reader.read(Int64.self)
        maxEpisodeSteps = steps > 0 ? Int(steps) : nil
        let threshold = try reader.readDouble()
        rewardThreshold = threshold.isFinite ? threshold : nil
        let fps = try reader.read(UInt32.self)
        renderFPS = fps > 0 ? Int(fps) : nil
        summary = try reader.readString()
        guard reader.isAtEnd else { throw .protocolViolation(id: id, detail: "trailing bytes after MAKE's reply") }
    }
}

/// What can go wrong with a Gymnasium environment; each message names it and says what to do.
public enum GymnasiumError: Error, Equatable, CustomStringConvertible {
    /// No Python interpreter to run the worker with.
    case noPython(String)
    /// The worker could not be started.
    case spawn(id: String, reason: String)
    /// The worker answered with an error: an exception in the environment, an unknown id,
    /// an unsupported space, `gymnasium` missing.
    case environment(id: String, message: String)
    /// The worker ended without answering.
    case died(id: String, detail: String)
    /// No answer within the timeout.
    case timedOut(id: String, seconds: Double)
    /// The worker sent something the protocol does not allow.
    case protocolViolation(id: String, detail: String)

    public var description: String {
        switch self {
        case .noPython(let message):
            return message
        case .spawn(let id, let reason):
            return "gymnasium:\(id): the worker could not start: \(reason)"
        case .environment(let id, let message):
            return "gymnasium:\(id): \(message)"
        case .died(let id, let detail):
            return "gymnasium:\(id): the Python worker ended unexpectedly (\(detail)); its error, if any, is printed "
                + "above"
        case .timedOut(let id, let seconds):
            return "gymnasium:\(id): the Python worker did not answer within \(GymnasiumBridge.format(seconds)) s "
                + "(set AGENTLAB_GYMNASIUM_TIMEOUT to allow more seconds); it was stopped"
        case .protocolViolation(let id, let detail):
            return "gymnasium:\(id): the worker broke the bridge protocol (\(detail)); is the installed "
                + "agentlab_gymnasium module from another AgentLab version?"
        }
    }
}

/// Settings and helpers shared by the bridge's environments.
public enum GymnasiumBridge {
    /// The prefix of a Gymnasium id: `gymnasium:CartPole-v1`.
    public static let prefix = "gymnasium:"
    static let protocolVersion: UInt32 = 1
    static let maximumObservationSize = 1 << 24
    static let maximumReplyBytes = 1 << 30

    /// Seconds a reply may take: `$AGENTLAB_GYMNASIUM_TIMEOUT`, default 60.
    static var replyTimeout: Double {
        if let text = ProcessInfo.processInfo.environment["AGENTLAB_GYMNASIUM_TIMEOUT"], let seconds = Double(text),
           seconds > 0, seconds <= 86_400 { return seconds }
        return 60
    }

    /// Seconds the first reply may take (importing gymnasium and making the environment).
    static let startTimeout: Double = 120

    /// Workers a vector of `copies` spreads over: `$AGENTLAB_GYMNASIUM_WORKERS`, else one per
    /// core, never more than the copies.
    public static func workerCount(copies: Int) -> Int {
        if let text = ProcessInfo.processInfo.environment["AGENTLAB_GYMNASIUM_WORKERS"], let count = Int(text),
           count > 0 { return min(count, copies) }
        return max(1, min(copies, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// The interpreter: `$AGENTLAB_PYTHON`, else `python3` on `PATH`.
    static func interpreter() throws(GymnasiumError) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["AGENTLAB_PYTHON"], !chosen.isEmpty {
            guard access(chosen, X_OK) == 0 else {
                throw .noPython("AGENTLAB_PYTHON is \(chosen), which is not an executable file: point it at a "
                    + "Python 3 interpreter that has gymnasium")
            }
            return chosen
        }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/python3"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw .noPython("python3 was not found on PATH: Gymnasium environments run in Python; install it "
            + "(apt-get install python3 python3-venv, then python3 -m pip install gymnasium) or set "
            + "AGENTLAB_PYTHON to an interpreter that has gymnasium")
    }

    /// The version of the `gymnasium` package the bridge's interpreter imports, or why
    /// there is none (no interpreter, or no `gymnasium` in it: the message says what to
    /// install). Runs each interpreter once per process; later calls read the answer kept.
    public static func installedVersion() -> Result<String, GymnasiumError> {
        let python: String
        do { python = try interpreter() } catch { return .failure(error) }
        if let known = versions.withLock({ $0[python] }) { return known }
        let answer = askVersion(of: python)
        versions.withLock { $0[python] = answer }
        return answer
    }

    private static let versions = Mutex<[String: Result<String, GymnasiumError>]>([:])

    private static func askVersion(of python: String) -> Result<String, GymnasiumError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import gymnasium, numpy; print(gymnasium.__version__)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            return .failure(.spawn(id: "", reason: "\(python) could not be started: \(error)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(.noPython("gymnasium is not installed for \(python): run '\(python) -m pip install gymnasium' "
                + "(or set AGENTLAB_PYTHON to an interpreter that has it)"))
        }
        return .success(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A private folder holding the worker module, written once per process.
    static func moduleDirectory() throws(GymnasiumError) -> String {
        let result = writtenModule.withLock { cached -> Result<String, GymnasiumError> in
            if let cached { return .success(cached) }
            let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array("\(base)/agentlab-gymnasium-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                return .failure(.spawn(id: "", reason: "no temporary folder in \(base): \(String(cString: strerror(errno)))"))
            }
            let root = String(cString: made)
            let package = URL(fileURLWithPath: root).appendingPathComponent("agentlab_gymnasium")
            do {
                try FileManager.default.createDirectory(at: package, withIntermediateDirectories: false)
                try Data("".utf8).write(to: package.appendingPathComponent("__init__.py"))
                try Data(gymnasiumWorkerSource.utf8).write(to: package.appendingPathComponent("__main__.py"))
            } catch {
                return .failure(.spawn(id: "", reason: "the worker module could not be written to \(root): \(error)"))
            }
            cached = root
            registerRemoval(of: root)
            return .success(root)
        }
        return try result.get()
    }

    private static let writtenModule = Mutex<String?>(nil)
    private static let removals = Mutex<[String]>([])

    private static func registerRemoval(of folder: String) {
        removals.withLock { $0.append(folder) }
        atexit {
            for folder in GymnasiumBridge.removals.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
