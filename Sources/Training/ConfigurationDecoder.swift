/// Decodes a `Decodable` type straight from a `ConfigurationValue` tree, so that every
/// mismatch is reported with its key path and the value found (`ppo.epochs` must be a whole
/// number, got 2.5) rather than as an anonymous JSON error.
package struct ConfigurationDecoder: Decoder {
    package let value: ConfigurationValue
    package let codingPath: [any CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    package init(_ value: ConfigurationValue, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("a mapping of keys to values") }
        return KeyedDecodingContainer(Keyed<Key>(object: object, codingPath: codingPath))
    }

    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch("a list") }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    package func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    /// The key path as config files write it: `ppo.network.hidden_sizes[0]`.
    package static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    package func mismatch(_ expected: String) -> ConfigurationError {
        .wrongType(key: Self.path(codingPath), expected: "\(expected), got \(value.shortText)")
    }

    private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        package let object: [String: ConfigurationValue]
        package let codingPath: [any CodingKey]
        package var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

        package func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }
        package func decodeNil(forKey key: Key) throws -> Bool { object[key.stringValue] == nil }

        package func child(_ key: Key) throws -> ConfigurationDecoder {
            guard let value = object[key.stringValue] else {
                throw ConfigurationError.wrongType(key: ConfigurationDecoder.path(codingPath + [key]), expected: "a value (it is missing)")
            }
            return ConfigurationDecoder(value, codingPath: codingPath + [key])
        }

        package func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: child(key)) }
        package func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> { try child(key).container(keyedBy: type) }
        package func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
        package func superDecoder() throws -> any Decoder { ConfigurationDecoder(.object(object), codingPath: codingPath) }
        package func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
    }

    private struct Unkeyed: UnkeyedDecodingContainer {
        package let items: [ConfigurationValue]
        package let codingPath: [any CodingKey]
        package var currentIndex = 0
        package var count: Int? { items.count }
        package var isAtEnd: Bool { currentIndex >= items.count }

        package init(items: [ConfigurationValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        package mutating func next() throws -> ConfigurationDecoder {
            let key = IndexKey(currentIndex)
            guard !isAtEnd else {
                throw ConfigurationError.wrongType(key: ConfigurationDecoder.path(codingPath + [key]), expected: "another item")
            }
            defer { currentIndex += 1 }
            return ConfigurationDecoder(items[currentIndex], codingPath: codingPath + [key])
        }

        package mutating func decodeNil() throws -> Bool { false }
        package mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }
        package mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey> { try next().container(keyedBy: type) }
        package mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
        package mutating func superDecoder() throws -> any Decoder { try next() }
    }

    private struct IndexKey: CodingKey {
        package let intValue: Int?
        package var stringValue: String { "\(intValue!)" }
        package init(_ index: Int) { intValue = index }
        package init?(stringValue: String) { nil }
        package init?(intValue: Int) { self.intValue = intValue }
    }

    private struct Single: SingleValueDecodingContainer {
        package let decoder: ConfigurationDecoder
        package var codingPath: [any CodingKey] { decoder.codingPath }

        package func decodeNil() -> Bool { false }

        package func decode(_ type: Bool.Type) throws -> Bool {
            guard case .bool(let v) = decoder.value else { throw decoder.mismatch("true or false") }
            return v
        }

        package func decode(_ type: String.Type) throws -> String {
            guard case .string(let v) = decoder.value else { throw decoder.mismatch("text") }
            return v
        }

        package func decode(_ type: Double.Type) throws -> Double {
            switch decoder.value {
            case .int(let v): return Double(v)
            case .double(let v): return v
            default: throw decoder.mismatch("a number")
            }
        }

        package func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

        package func whole<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            let expected = T.self == Int.self ? "a whole number" : "a whole number in \(T.min)...\(T.max)"
            switch decoder.value {
            case .int(let v):
                guard let exact = T(exactly: v) else { throw decoder.mismatch(expected) }
                return exact
            case .double(let v):
                guard let exact = T(exactly: v) else { throw decoder.mismatch(expected) }
                return exact
            default: throw decoder.mismatch(expected)
            }
        }

        package func decode(_ type: Int.Type) throws -> Int { try whole(type) }
        package func decode(_ type: Int8.Type) throws -> Int8 { try whole(type) }
        package func decode(_ type: Int16.Type) throws -> Int16 { try whole(type) }
        package func decode(_ type: Int32.Type) throws -> Int32 { try whole(type) }
        package func decode(_ type: Int64.Type) throws -> Int64 { try whole(type) }
        package func decode(_ type: UInt.Type) throws -> UInt { try whole(type) }
        package func decode(_ type: UInt8.Type) throws -> UInt8 { try whole(type) }
        package func decode(_ type: UInt16.Type) throws -> UInt16 { try whole(type) }
        package func decode(_ type: UInt32.Type) throws -> UInt32 { try whole(type) }
        package func decode(_ type: UInt64.Type) throws -> UInt64 { try whole(type) }
        package func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
    }
}

extension ConfigurationValue {
    /// The value as a short piece of text for messages.
    package var shortText: String {
        switch self {
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .double(let v): return "\(v)"
        case .string(let v): return "'\(v.prefix(40))'"
        case .array(let v): return "a list of \(v.count)"
        case .object(let v): return "a mapping of \(v.count) keys"
        }
    }
}
