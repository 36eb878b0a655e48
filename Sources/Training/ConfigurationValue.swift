import Foundation
import Yams

/// A configuration as a tree of plain values: what a YAML file holds, what a
/// configuration struct encodes to, and what the layers (preset, file, flags) are merged in.
package indirect enum ConfigurationValue: Codable, Equatable {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ConfigurationValue])
    case object([String: ConfigurationValue])

    package init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([ConfigurationValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: ConfigurationValue].self)) }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    /// A Codable value as a tree (its CodingKeys give the snake_case names).
    package init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(ConfigurationValue.self, from: data)
    }

    /// The tree decoded as `type`; a mismatch names the key path and the value found.
    package func decoded<T: Decodable>(as type: T.Type) throws(ConfigurationError) -> T {
        do {
            return try T(from: ConfigurationDecoder(self))
        } catch let error as ConfigurationError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw .wrongType(key: ConfigurationDecoder.path(context.codingPath), expected: context.debugDescription)
        } catch {
            throw .wrongType(key: "?", expected: "\(error)")
        }
    }

    /// A value parsed by Yams (`Int`, `Double`, `Bool`, `String`, arrays, mappings).
    package init(yaml value: Any, path: String) throws(ConfigurationError) {
        switch value {
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double:
            guard v.isFinite else { throw .wrongType(key: path, expected: "a finite number, not \(v)") }
            self = .double(v)
        case let v as String: self = .string(v)
        case let v as [Any]:
            var items: [ConfigurationValue] = []
            for (i, item) in v.enumerated() { items.append(try ConfigurationValue(yaml: item, path: "\(path)[\(i)]")) }
            self = .array(items)
        case let v as [String: Any]:
            var object: [String: ConfigurationValue] = [:]
            for (key, item) in v { object[key] = try ConfigurationValue(yaml: item, path: path.isEmpty ? key : "\(path).\(key)") }
            self = .object(object)
        case is NSNull:
            throw .wrongType(key: path, expected: "a value (it is empty)")
        default:
            throw .wrongType(key: path, expected: "a number, boolean, string, list or mapping")
        }
    }

    /// `overrides` laid over `self`: mappings merge key by key, anything else is replaced.
    /// A key that `self` does not have, and that is not in `optionalKeys`, is an error
    /// naming its path.
    package func overlaid(with overrides: ConfigurationValue, optionalKeys: Set<String>, path: String = "") throws(ConfigurationError) -> ConfigurationValue {
        guard case .object(var base) = self, case .object(let top) = overrides else { return overrides }
        for key in top.keys.sorted() {
            let value = top[key]!
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if let existing = base[key] {
                base[key] = try existing.overlaid(with: value, optionalKeys: optionalKeys, path: keyPath)
            } else if optionalKeys.contains(key) {
                base[key] = value
            } else {
                throw .unknownKey(keyPath, known: base.keys.sorted())
            }
        }
        return .object(base)
    }

    /// The tree as key-value pairs, nested mappings flattened with dots
    /// (`exploration.end=0.01`), everything else in flow style, keys in alphabetical order.
    package func flattened(prefix: String = "") -> [(key: String, value: String)] {
        guard case .object(let object) = self else { return [(prefix, scalarText)] }
        return object.keys.sorted().flatMap { key in
            object[key]!.flattened(prefix: prefix.isEmpty ? key : "\(prefix).\(key)")
        }
    }

    /// YAML text with the keys of each mapping in `order` first, then alphabetically.
    package func yaml(order: [String] = [], indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        guard case .object(let object) = self else { return pad + scalarText + "\n" }
        let keys = order.filter { object[$0] != nil } + object.keys.filter { !order.contains($0) }.sorted()
        var text = ""
        for key in keys {
            let value = object[key]!
            if case .object = value {
                text += "\(pad)\(key):\n" + value.yaml(indent: indent + 2)
            } else {
                text += "\(pad)\(key): \(value.scalarText)\n"
            }
        }
        return text
    }

    /// Flow-style text of a non-mapping value.
    private var scalarText: String {
        switch self {
        case .bool(let v): return v ? "true" : "false"
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && Swift.abs(v) < 1e15 ? String(format: "%.1f", v) : "\(v)"
        case .string(let v):
            let plain = !v.isEmpty && v.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
                && !["true", "false", "null", "yes", "no", "on", "off"].contains(v.lowercased()) && Double(v) == nil
            return plain ? v : "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let items): return "[" + items.map(\.scalarText).joined(separator: ", ") + "]"
        case .object: return "{}"
        }
    }

    /// The most bytes a configuration file may hold.
    package static let maximumFileSize = 1 << 20
    /// The deepest nesting of lists and mappings a configuration may have.
    package static let maximumDepth = 32
    /// The most values a configuration may expand to, aliases included.
    package static let maximumValueCount = 10_000

    /// The text of the configuration file at `path`, after checking that it is a regular
    /// file of at most `maximumFileSize` bytes of UTF-8.
    package static func readText(of path: String) throws(ConfigurationError) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .unreadable(path, reason: "no such file") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path, reason: "it is not a regular file") }
        guard status.st_size <= maximumFileSize else {
            throw .unreadable(path, reason: "it is \(status.st_size) bytes; a configuration may hold at most \(maximumFileSize)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path, reason: "cannot read it") }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path, reason: "it is not UTF-8 text") }
        return text
    }

    /// Parses YAML text into a tree. Hostile text is refused before it can cost memory or
    /// stack: its size, its nesting (estimated from the text before parsing, then measured
    /// with aliases expanded) and the number of values it expands to are all capped.
    package static func parse(yaml text: String, file: String) throws(ConfigurationError) -> ConfigurationValue {
        guard text.utf8.count <= maximumFileSize else {
            throw .unreadable(file, reason: "it is \(text.utf8.count) bytes; a configuration may hold at most \(maximumFileSize)")
        }
        let depth = nestingBound(of: text)
        guard depth <= maximumDepth else {
            throw .unreadable(file, reason: "it nests lists and mappings \(depth) levels deep (or is indented that far); "
                + "a configuration may nest at most \(maximumDepth)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw .unreadable(file, reason: "not valid YAML: \(error)")
        }
        guard let node else { return .object([:]) }
        var budget = maximumValueCount
        guard fitsLimits(node, depth: 0, budget: &budget) else {
            throw .unreadable(file, reason: "it expands to more than \(maximumValueCount) values or deeper than "
                + "\(maximumDepth) levels (through aliases?); a configuration needs far fewer")
        }
        let loaded = Constructor.default.any(from: node)
        guard loaded is [String: Any] else { throw .unreadable(file, reason: "the top level must be a mapping of keys to values") }
        return try ConfigurationValue(yaml: loaded, path: "")
    }

    /// Whether `node`, aliases expanded, stays within `maximumDepth` and `budget` values.
    private static func fitsLimits(_ node: Node, depth: Int, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0, depth <= maximumDepth else { return false }
        switch node {
        case .scalar: return true
        case .sequence(let items):
            for item in items where !fitsLimits(item, depth: depth + 1, budget: &budget) { return false }
            return true
        case .mapping(let pairs):
            for (key, value) in pairs {
                guard fitsLimits(key, depth: depth + 1, budget: &budget),
                      fitsLimits(value, depth: depth + 1, budget: &budget) else { return false }
            }
            return true
        }
    }

    /// An upper bound on how deep `text` nests, read from the text alone: on each line, the
    /// indentation plus the `- ` items that open it plus the open brackets (outside quotes
    /// and comments). Generous (every space counts as a level), and cheap enough to run
    /// before the parser, whose recursion a deep file would otherwise exhaust.
    package static func nestingBound(of text: String) -> Int {
        var deepest = 0, brackets = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var index = line.startIndex, level = 0
            while index < line.endIndex, line[index] == UInt8(ascii: " ") { level += 1; index = line.index(after: index) }
            var quote: UInt8? = nil, previous = UInt8(ascii: " "), atItem = true
            while index < line.endIndex {
                let byte = line[index]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "#"), previous == UInt8(ascii: " ") {
                    break
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    brackets += 1
                } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    brackets = max(0, brackets - 1)
                } else if byte == UInt8(ascii: "-"), atItem {
                    level += 1
                }
                // Items open levels only before the line's first other character.
                if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "-") { atItem = false }
                deepest = max(deepest, level + brackets)
                previous = byte
                index = line.index(after: index)
            }
            deepest = max(deepest, level + brackets)
        }
        return deepest
    }
}

/// A configuration that cannot be used; the message names the key and what to do.
package enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case unreadable(String, reason: String)
    case unknownKey(String, known: [String])
    case wrongType(key: String, expected: String)
    case invalidValue(key: String, reason: String)

    package var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read config \(file): \(reason)"
        case .unknownKey(let key, let known):
            return "unknown key '\(key)' in the config; keys allowed there: \(known.joined(separator: ", "))"
        case .wrongType(let key, let expected):
            return "config key '\(key)' has the wrong type: expected \(expected)"
        case .invalidValue(let key, let reason):
            return "config key '\(key)' is invalid: \(reason)"
        }
    }
}
