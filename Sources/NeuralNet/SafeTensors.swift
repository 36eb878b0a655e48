import Foundation

/// What can go wrong reading or applying a safetensors file; each case names the problem.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case truncated(path: String, reason: String)
    case corruptHeader(path: String, reason: String)
    case unsupportedDType(name: String, dtype: String)
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case writeFailed(path: String, reason: String)
    case nonFiniteValue(name: String)
    case valueOutOfRange(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read checkpoint \(path): \(reason)"
        case .truncated(let path, let reason):
            return "checkpoint \(path) is truncated (\(reason)); it was probably cut off while copying: restore it or retrain"
        case .corruptHeader(let path, let reason):
            return "checkpoint \(path) is not a valid safetensors file: \(reason)"
        case .unsupportedDType(let name, let dtype):
            return "tensor '\(name)' has dtype \(dtype); AgentLab reads F32 only"
        case .missingTensor(let name):
            return "the checkpoint has no tensor '\(name)' that the model needs: it was saved from a different network"
        case .unexpectedTensor(let name):
            return "the checkpoint has a tensor '\(name)' that the model does not: it was saved from a different network"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found) in the checkpoint but the model needs \(expected): "
                + "it was saved from a different network"
        case .writeFailed(let path, let reason):
            return "cannot write checkpoint \(path): \(reason)"
        case .nonFiniteValue(let name):
            return "tensor '\(name)' holds NaN or infinite values: the checkpoint is corrupt or was saved from a run "
                + "that diverged; resume from an earlier checkpoint or retrain"
        case .valueOutOfRange(let name, let value, let expected):
            return "the checkpoint's '\(name)' is \(value), but it must be \(expected): the checkpoint is corrupt"
        }
    }
}

/// Reads and writes named Float32 tensors in the safetensors format: an 8-byte
/// little-endian header length, a JSON header mapping each name to its dtype, shape and
/// byte range (`data_offsets`, relative to the end of the header), optional string
/// `__metadata__`, then the raw little-endian data. Python's `safetensors` reads these
/// files and AgentLab reads Python's.
public enum SafeTensors {
    /// One stored tensor.
    public struct Entry: Equatable, Sendable {
        public var shape: [Int]
        public var scalars: [Float]

        public init(shape: [Int], scalars: [Float]) {
            self.shape = shape
            self.scalars = scalars
        }
    }

    /// The bytes of a file holding `tensors` (written in the given order) and `metadata`.
    /// The header is padded with spaces to a multiple of 8 bytes, as the Python package does.
    public static func encode(_ tensors: [(name: String, entry: Entry)], metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, entry) in tensors {
            let bytes = entry.scalars.count * 4
            header[name] = ["dtype": "F32", "shape": entry.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, entry) in tensors {
            entry.scalars.withUnsafeBufferPointer { buffer in
                for value in buffer {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes `tensors` to `url` atomically: a temporary file in the same folder, then a
    /// rename, so a crash never leaves a half-written file at `url`.
    public static func write(
        _ tensors: [(name: String, entry: Entry)], metadata: [String: String] = [:], to url: URL
    ) throws(CheckpointError) {
        let data = encode(tensors, metadata: metadata)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw .writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The largest header accepted (the Python package's own limit).
    public static let maximumHeaderLength = 100_000_000

    /// Decodes a whole file: every tensor by name, and the metadata. Every length, shape
    /// and offset is checked before anything is allocated: the tensors must cover the data
    /// exactly, back to back in some order (no gap, overlap or trailing byte), each name once.
    public static func decode(_ data: Data, path: String = "<memory>") throws(CheckpointError)
        -> (tensors: [String: Entry], metadata: [String: String])
    {
        guard data.count >= 8 else {
            throw .truncated(path: path, reason: "\(data.count) bytes, fewer than the 8-byte header length")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw .corruptHeader(path: path, reason: "the header claims \(headerLength) bytes, more than the \(maximumHeaderLength) allowed")
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw .truncated(path: path, reason: "the header claims \(headerLength) bytes but only \(data.count - 8) follow")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        if let duplicate = duplicateTopLevelKey(in: headerData) {
            throw .corruptHeader(path: path, reason: "the header names '\(duplicate)' twice")
        }
        guard let object = try? JSONSerialization.jsonObject(with: headerData),
              let header = object as? [String: Any]
        else {
            throw .corruptHeader(path: path, reason: "the header is not a JSON object")
        }
        let bodyStart = 8 + Int(headerLength), bodyCount = data.count - bodyStart
        var metadata: [String: String] = [:]
        var layout: [(name: String, shape: [Int], start: Int, end: Int)] = []
        for name in header.keys.sorted() {
            let value = header[name]!
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw .corruptHeader(path: path, reason: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any], let offsetValues = info["data_offsets"] as? [Any]
            else {
                throw .corruptHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw .unsupportedDType(name: name, dtype: dtype) }
            let shape = shapeValues.compactMap(wholeNumber), offsets = offsetValues.compactMap(wholeNumber)
            guard shape.count == shapeValues.count, shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else {
                throw .corruptHeader(path: path, reason: "entry '\(name)' has shape \(shapeValues), not up to 8 whole numbers ≥ 0")
            }
            guard offsets.count == 2, offsetValues.count == 2 else {
                throw .corruptHeader(path: path, reason: "entry '\(name)' has data_offsets \(offsetValues), not two whole numbers")
            }
            // Sizes are multiplied with overflow checks: a hostile shape must not wrap around.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Int.max / 8 else {
                    throw .corruptHeader(path: path, reason: "entry '\(name)' has shape \(shape), more elements than any file holds")
                }
                count = product
            }
            guard count * 4 <= bodyCount else {
                throw .truncated(path: path, reason: "tensor '\(name)' of shape \(shape) needs \(count * 4) bytes but the body holds \(bodyCount)")
            }
            let (start, end) = (offsets[0], offsets[1])
            guard start >= 0, end >= start, end - start == count * 4 else {
                throw .corruptHeader(path: path, reason: "entry '\(name)' has \(end - start) bytes for shape \(shape)")
            }
            guard end <= bodyCount else {
                throw .truncated(path: path, reason: "tensor '\(name)' ends at byte \(end) of a \(bodyCount)-byte body")
            }
            layout.append((name, shape, start, end))
        }
        var covered = 0
        for entry in layout.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            guard entry.start == covered else {
                throw .corruptHeader(path: path, reason: entry.start < covered
                    ? "tensor '\(entry.name)' overlaps another at byte \(entry.start)"
                    : "bytes \(covered)..<\(entry.start) belong to no tensor")
            }
            covered = entry.end
        }
        guard covered == bodyCount else {
            throw .corruptHeader(path: path, reason: "\(bodyCount - covered) bytes follow the last tensor")
        }
        var tensors: [String: Entry] = [:]
        data.withUnsafeBytes { raw in
            for entry in layout {
                let count = (entry.end - entry.start) / 4
                let base = bodyStart + entry.start
                let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count {
                        let bits = raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)
                        buffer[i] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                    initialized = count
                }
                tensors[entry.name] = Entry(shape: entry.shape, scalars: scalars)
            }
        }
        return (tensors, metadata)
    }

    /// A JSON number that is a whole number representable as `Int`, else nil (values
    /// beyond 2⁵³ may be rounded, which the size checks then refuse).
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double else { return nil }
        return Int(exactly: double)
    }

    /// The first key of the header's top-level object that appears twice (as written,
    /// escapes included), or nil. JSONSerialization keeps one of them silently.
    static func duplicateTopLevelKey(in json: Data) -> String? {
        var seen: Set<[UInt8]> = []
        var depth = 0, inString = false, escaped = false
        var current: [UInt8] = [], last: [UInt8]? = nil
        for byte in json {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false; last = current; continue }
                if depth == 1 { current.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; current = []
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; last = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1; last = nil
            case UInt8(ascii: ":"):
                if depth == 1, let key = last, !seen.insert(key).inserted { return String(decoding: key, as: UTF8.self) }
                last = nil
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): break
            default: last = nil
            }
        }
        return nil
    }

    /// Reads a whole file.
    public static func read(from url: URL) throws(CheckpointError) -> (tensors: [String: Entry], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: FileManager.default.fileExists(atPath: url.path)
                ? error.localizedDescription : "no such file")
        }
        return try decode(data, path: url.path)
    }
}

extension Layer {
    /// The parameters as safetensors entries, by name.
    public var parameterEntries: [(name: String, entry: SafeTensors.Entry)] {
        namedParameters.map { ($0.name, SafeTensors.Entry(shape: $0.tensor.shape, scalars: $0.tensor.scalars)) }
    }

    /// Saves the parameters to `url` atomically.
    public func saveParameters(to url: URL, metadata: [String: String] = [:]) throws(CheckpointError) {
        try SafeTensors.write(parameterEntries, metadata: metadata, to: url)
    }

    /// Loads parameters from decoded entries, all or nothing: every name and shape is
    /// checked before any parameter changes. Entries under other prefixes are ignored only
    /// when `prefix` is given (`"policy."` loads the entries that start with it).
    public func loadParameters(from tensors: [String: SafeTensors.Entry], prefix: String = "") throws(CheckpointError) {
        let mine = namedParameters
        for (name, tensor) in mine {
            guard let entry = tensors[prefix + name] else { throw .missingTensor(name: prefix + name) }
            guard entry.shape == tensor.shape else {
                throw .shapeMismatch(name: prefix + name, expected: tensor.shape, found: entry.shape)
            }
        }
        let known = Set(mine.map { prefix + $0.name })
        for name in tensors.keys.sorted() where name.hasPrefix(prefix) && !known.contains(name) {
            throw .unexpectedTensor(name: name)
        }
        for (name, tensor) in mine { tensor.assign(tensors[prefix + name]!.scalars) }
    }

    /// Loads parameters from a safetensors file, all or nothing.
    public func loadParameters(from url: URL) throws(CheckpointError) {
        try loadParameters(from: SafeTensors.read(from: url).tensors)
    }
}
