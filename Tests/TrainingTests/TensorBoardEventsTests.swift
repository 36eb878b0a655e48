import Foundation
import Training
import XCTest

/// The TensorBoard event-file writer: CRC-32C against published check values, records
/// byte for byte against ones TensorBoard's own Python code wrote (tensorboard 2.21.0's
/// protobuf classes and `masked_crc32c`), files read back field by field, cut files, and
/// several writers in one folder. `scripts/interop/tensorboard_check.py` reads real runs
/// with TensorBoard itself.
final class TensorBoardEventsTests: XCTestCase {
    // MARK: CRC-32C

    /// The standard check value, and the four vectors of RFC 3720 appendix B.4.
    func testCRC32CMatchesPublishedValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    /// Rotate right by 15, add 0xa282ead8, wrapping: values worked by hand, and TensorBoard's
    /// `masked_crc32c(b"123456789")`.
    func testMaskedCRC() {
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0x0000_8000), 0xA282_EAD9)  // bit 15 rotates to bit 0
        XCTAssertEqual(CRC32C.masked(1), 0xA284_EAD8)  // bit 0 rotates to bit 17
        XCTAssertEqual(CRC32C.masked(0xFFFF_FFFF), 0xA282_EAD7)  // the addition wraps
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum(Array("123456789".utf8))), 0xC78A_B0E5)
    }

    // MARK: Records

    /// An empty record: eight zero length bytes, their masked CRC, no data, masked CRC 0.
    func testEmptyRecordFraming() {
        XCTAssertEqual(
            TensorBoardRecords.framed([]),
            [0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x03, 0x98, 0x07, 0xD8, 0xEA, 0x82, 0xA2])
    }

    /// Each kind of event, framed, equals the record TensorBoard's Python code makes of the
    /// same event.
    func testEventRecordsMatchTensorBoardsOwn() {
        XCTAssertEqual(
            hex(TensorBoardRecords.framed(TensorBoardEvent.fileVersion(wallTime: 1_700_000_000.25).bytes)),
            "1800000000000000a37f4b220900001040fc54d9411a0d627261696e2e4576656e743a32338d2fe9")
        let scalars = TensorBoardEvent.scalars(
            [("charts/episodic_return", 12.5), ("losses/value_loss", 0.1)], step: 2048, wallTime: 1_700_000_001.5)
        XCTAssertEqual(
            hex(TensorBoardRecords.framed(scalars.bytes)),
            "4700000000000000bac3fb9b0900006040fc54d9411080102a390a1d0a166368617274732f657069736f6469635f72657475726e"
                + "15000048410a180a116c6f737365732f76616c75655f6c6f737315cdcccc3da9f79442")
        XCTAssertEqual(
            hex(TensorBoardRecords.framed(TensorBoardEvent.sessionStart(step: 4097, wallTime: 1_700_000_002).bytes)),
            "100000000000000095fbfe180900008040fc54d9411081203a0208018eabd772")
    }

    /// A file written by the writer reads back as whole records with valid CRCs, and each
    /// event decodes to exactly the wall times, steps, tags (in order) and Float values given.
    func testWrittenFileReadsBack() throws {
        let folder = try temporaryFolder()
        let writer = try TensorBoardEventWriter(folder: folder, wallTime: 1_700_000_000.75)
        try writer.addScalars(
            [(tag: "episodes", value: 3), (tag: "charts/episodic_return", value: -12.25), (tag: "losses/value_loss", value: 0.1)],
            step: 2048, wallTime: 1_700_000_001.5)
        try writer.addScalars([(tag: "charts/SPS", value: 4321.123456789)], step: 1 << 40, wallTime: 1_700_000_002)
        try writer.flush()
        writer.close()

        let name = writer.url.lastPathComponent
        XCTAssertEqual(writer.url.deletingLastPathComponent().standardizedFileURL.path, folder.standardizedFileURL.path)
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1700000000."), name)
        XCTAssertTrue(name.hasSuffix(".\(getpid()).0"), name)

        let (records, isTruncated) = TensorBoardRecords.records(in: try bytes(of: writer.url))
        XCTAssertFalse(isTruncated)
        XCTAssertEqual(records.count, 3)
        guard records.count == 3 else { return }

        let header = try ProtobufFields(records[0])
        XCTAssertEqual(header.double(1), 1_700_000_000.75)
        XCTAssertEqual(header.string(3), "brain.Event:2")
        XCTAssertNil(header.varint(2))

        let first = try ProtobufFields(records[1])
        XCTAssertEqual(first.double(1), 1_700_000_001.5)
        XCTAssertEqual(first.varint(2), 2048)
        let values = try summaryValues(first)
        XCTAssertEqual(values.map(\.tag), ["episodes", "charts/episodic_return", "losses/value_loss"])
        XCTAssertEqual(values.map(\.value), [3, -12.25, Float(0.1)])

        let second = try ProtobufFields(records[2])
        XCTAssertEqual(second.varint(2), 1 << 40)
        let sps = try summaryValues(second)
        XCTAssertEqual(sps.map(\.tag), ["charts/SPS"])
        XCTAssertEqual(sps.map(\.value), [Float(4321.123456789)])
    }

    /// A file cut anywhere inside its last record gives all the records before it and says
    /// it was cut; one cut exactly between records is whole.
    func testCutFileGivesEarlierRecords() throws {
        let folder = try temporaryFolder()
        let writer = try TensorBoardEventWriter(folder: folder, wallTime: 1_700_000_000)
        for step in 1...3 { try writer.addScalars([(tag: "charts/episodic_return", value: Double(step))], step: step) }
        writer.close()
        let file = try bytes(of: writer.url)
        let whole = TensorBoardRecords.records(in: file)
        XCTAssertEqual(whole.records.count, 4)
        XCTAssertFalse(whole.isTruncated)

        let lastStart = file.count - TensorBoardRecords.overhead - whole.records[3].count
        XCTAssertEqual(TensorBoardRecords.records(in: Array(file[..<lastStart])).records, Array(whole.records[..<3]))
        XCTAssertFalse(TensorBoardRecords.records(in: Array(file[..<lastStart])).isTruncated)
        for cut in [lastStart + 1, lastStart + 8, lastStart + 12, (lastStart + file.count) / 2, file.count - 1] {
            let (records, isTruncated) = TensorBoardRecords.records(in: Array(file[..<cut]))
            XCTAssertEqual(records, Array(whole.records[..<3]), "cut at byte \(cut)")
            XCTAssertTrue(isTruncated, "cut at byte \(cut)")
        }
    }

    /// A flipped bit in the length, its CRC, the data or the data's CRC stops reading at
    /// that record.
    func testCorruptRecordStopsReading() {
        let good = TensorBoardRecords.framed(Array("first".utf8))
        let second = TensorBoardRecords.framed(Array("second".utf8))
        for index in [0, 7, 9, second.count - 5, second.count - 1] {
            var corrupt = second
            corrupt[index] ^= 0x10
            let (records, isTruncated) = TensorBoardRecords.records(in: good + corrupt + good)
            XCTAssertEqual(records, [Array("first".utf8)], "bit flipped in byte \(index)")
            XCTAssertTrue(isTruncated, "bit flipped in byte \(index)")
        }
    }

    /// A length larger than the bytes that follow, with a valid CRC of its own, is refused
    /// without allocating it.
    func testHugeLengthIsRefused() {
        for length in [UInt64.max, UInt64(Int.max), 1 << 40, 5] {
            let lengthBytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
            let crc = withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(lengthBytes)).littleEndian) { Array($0) }
            let (records, isTruncated) = TensorBoardRecords.records(in: lengthBytes + crc + [1, 2, 3, 4, 5, 6, 7, 8])
            XCTAssertEqual(records, [], "length \(length)")
            XCTAssertTrue(isTruncated, "length \(length)")
        }
    }

    // MARK: Files

    /// A second writer in the same folder, in the same second, makes a file of its own; a
    /// file already holding the next name is left as it was.
    func testWritersNeverShareOrReplaceAFile() throws {
        let folder = try temporaryFolder()
        let first = try TensorBoardEventWriter(folder: folder, wallTime: 1_700_000_000)
        let second = try TensorBoardEventWriter(folder: folder, wallTime: 1_700_000_000)
        XCTAssertNotEqual(first.url, second.url)
        XCTAssertTrue(second.url.lastPathComponent.hasSuffix(".\(getpid()).1"), second.url.lastPathComponent)

        let squatter = folder.appendingPathComponent(String(second.url.lastPathComponent.dropLast()) + "2")
        try Data("not an event file".utf8).write(to: squatter)
        let third = try TensorBoardEventWriter(folder: folder, wallTime: 1_700_000_000)
        XCTAssertTrue(third.url.lastPathComponent.hasSuffix(".\(getpid()).3"), third.url.lastPathComponent)
        XCTAssertEqual(try Data(contentsOf: squatter), Data("not an event file".utf8))

        try first.addScalars([(tag: "a", value: 1)], step: 1)
        try second.addScalars([(tag: "b", value: 2)], step: 1)
        for (writer, count) in [(first, 2), (second, 2), (third, 1)] {
            writer.close()
            let (records, isTruncated) = TensorBoardRecords.records(in: try bytes(of: writer.url))
            XCTAssertEqual(records.count, count, writer.url.lastPathComponent)
            XCTAssertFalse(isTruncated)
        }
    }

    /// Writing after `close` and creating a file where no folder can be made both throw,
    /// naming the path.
    func testErrorsNameThePath() throws {
        let folder = try temporaryFolder()
        let writer = try TensorBoardEventWriter(folder: folder)
        writer.close()
        writer.close()
        XCTAssertThrowsError(try writer.addScalars([(tag: "a", value: 1)], step: 1)) { error in
            XCTAssertTrue("\(error)".contains(writer.url.path), "\(error)")
        }

        let file = folder.appendingPathComponent("a-file")
        try Data().write(to: file)
        XCTAssertThrowsError(try TensorBoardEventWriter(folder: file.appendingPathComponent("run"))) { error in
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
        }
    }

    // MARK: Helpers

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("agentlab-tensorboard-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    private func bytes(of url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The (tag, simple_value) pairs of an event's summary (field 5), in order.
    private func summaryValues(
        _ event: ProtobufFields, file: StaticString = #filePath, line: UInt = #line
    ) throws -> [(tag: String, value: Float)] {
        guard let summary = event.bytes(5) else {
            XCTFail("the event has no summary", file: file, line: line)
            return []
        }
        return try ProtobufFields(summary).all(1).map { entry in
            guard case .bytes(let payload) = entry else { throw ProtobufFields.Malformed() }
            let value = try ProtobufFields(payload)
            return (value.string(1) ?? "<no tag>", value.float(2) ?? .nan)
        }
    }
}

/// A protocol-buffer message split into its fields: just enough of a reader to check what
/// `ProtobufMessage` wrote.
struct ProtobufFields {
    struct Malformed: Error {}

    enum Value: Equatable {
        case varint(UInt64), fixed64(UInt64), bytes([UInt8]), fixed32(UInt32)
    }

    /// (field number, value), in the order written.
    private(set) var fields: [(Int, Value)] = []

    init(_ message: [UInt8]) throws {
        var offset = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard offset < message.count else { throw Malformed() }
                let byte = message[offset]
                offset += 1
                result |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte < 0x80 { return result }
            }
            throw Malformed()
        }
        func fixed(_ size: Int) throws -> UInt64 {
            guard message.count - offset >= size else { throw Malformed() }
            defer { offset += size }
            return message[offset..<offset + size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        while offset < message.count {
            let key = try varint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: fields.append((field, .varint(try varint())))
            case 1: fields.append((field, .fixed64(try fixed(8))))
            case 2:
                let length = try varint()
                guard length <= UInt64(message.count - offset) else { throw Malformed() }
                fields.append((field, .bytes(Array(message[offset..<offset + Int(length)]))))
                offset += Int(length)
            case 5: fields.append((field, .fixed32(UInt32(try fixed(4)))))
            default: throw Malformed()
            }
        }
    }

    /// Every value of `field`, in order.
    func all(_ field: Int) -> [Value] { fields.filter { $0.0 == field }.map(\.1) }

    func varint(_ field: Int) -> Int? {
        guard case .varint(let v) = all(field).last else { return nil }
        return Int(truncatingIfNeeded: v)
    }

    func double(_ field: Int) -> Double? {
        guard case .fixed64(let v) = all(field).last else { return nil }
        return Double(bitPattern: v)
    }

    func float(_ field: Int) -> Float? {
        guard case .fixed32(let v) = all(field).last else { return nil }
        return Float(bitPattern: v)
    }

    func bytes(_ field: Int) -> [UInt8]? {
        guard case .bytes(let v) = all(field).last else { return nil }
        return v
    }

    func string(_ field: Int) -> String? { bytes(field).map { String(decoding: $0, as: UTF8.self) } }
}
