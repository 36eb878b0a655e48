/// A protocol-buffer message being written, field by field, in the wire format
/// (protobuf.dev/programming-guides/encoding): each field is a key (field number and wire
/// type, as a varint) followed by its value. Enough for the two formats AgentLab writes,
/// TensorBoard's `Event` and ONNX's `ModelProto`; nothing here reads protocol buffers.
///
/// Fields are written in the order they are added; a repeated field is the same field
/// added again.
package struct ProtobufMessage {
    /// The encoded bytes so far.
    package private(set) var bytes: [UInt8] = []

    package init() {}

    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        precondition(field >= 1 && field < 1 << 29, "protobuf field numbers are 1 ..< 2^29")
        appendVarint(UInt64(field) << 3 | type.rawValue)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An `int32`, `int64`, `uint64` or `enum` field (negative values take ten bytes, as
    /// the format says).
    package mutating func int(_ field: Int, _ value: Int) {
        key(field, .varint)
        appendVarint(UInt64(bitPattern: Int64(value)))
    }

    /// A `double` field (eight bytes, little-endian).
    package mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `float` field (four bytes, little-endian).
    package mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `bytes` field.
    package mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        key(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A `string` field (UTF-8).
    package mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// An embedded message.
    package mutating func message(_ field: Int, _ value: ProtobufMessage) { bytes(field, value.bytes) }

    /// An embedded message built in place.
    package mutating func message(_ field: Int, _ build: (inout ProtobufMessage) -> Void) {
        var inner = ProtobufMessage()
        build(&inner)
        message(field, inner)
    }
}
