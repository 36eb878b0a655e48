import Foundation

/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR
/// 0xFFFFFFFF), the checksum TFRecord files carry, and TensorFlow's masked form of it.
/// The check value of the ASCII bytes "123456789" is 0xE3069283.
package enum CRC32C {
    /// `table[b]`: the CRC register after shifting the byte `b` through eight rounds.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8) }
        }
        return ~crc
    }

    /// TensorFlow's masked checksum, `rotate right by 15, then add 0xa282ead8` (wrapping):
    /// stored instead of the plain CRC, so that the CRC of data that itself holds CRCs stays
    /// informative.
    package static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord framing, the container of TensorBoard's event files: each record is
///
///     UInt64 LE  length of the data
///     UInt32 LE  masked CRC-32C of those eight length bytes
///     [UInt8]    the data
///     UInt32 LE  masked CRC-32C of the data
package enum TensorBoardRecords {
    /// The bytes a record takes besides its data: length, its CRC, the data's CRC.
    package static let overhead = 16

    /// `data` framed as one record.
    package static func framed(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(data.count + overhead)
        let length = littleEndianBytes(UInt64(data.count))
        record += length
        record += littleEndianBytes(CRC32C.masked(CRC32C.checksum(length)))
        record += data
        record += littleEndianBytes(CRC32C.masked(CRC32C.checksum(data)))
        return record
    }

    /// The data of the whole, intact records at the start of `bytes`, in order. Reading stops
    /// at the first record that is cut short or whose CRCs do not match; `isTruncated` is
    /// true when any bytes remain after the records returned. A length is checked against
    /// the bytes that remain before anything is allocated for it, so untrusted input costs
    /// no more memory than its own size.
    package static func records(in bytes: [UInt8]) -> (records: [[UInt8]], isTruncated: Bool) {
        var records: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= overhead else { return (records, true) }
            let lengthBytes = bytes[offset..<offset + 8]
            let length = UInt64(littleEndianBytes: lengthBytes)
            guard UInt32(littleEndianBytes: bytes[offset + 8..<offset + 12]) == CRC32C.masked(CRC32C.checksum(lengthBytes)),
                length <= UInt64(remaining - overhead)
            else { return (records, true) }
            let start = offset + 12, end = start + Int(length)
            let data = bytes[start..<end]
            guard UInt32(littleEndianBytes: bytes[end..<end + 4]) == CRC32C.masked(CRC32C.checksum(data)) else {
                return (records, true)
            }
            records.append(Array(data))
            offset = end + 4
        }
        return (records, false)
    }

    private static func littleEndianBytes(_ value: some FixedWidthInteger) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

extension FixedWidthInteger {
    /// The integer stored little-endian in `bytes`, which must hold exactly its size.
    fileprivate init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == MemoryLayout<Self>.size)
        self = bytes.reversed().reduce(0) { $0 << 8 | Self($1) }
    }
}

/// The `Event` messages AgentLab writes (tensorflow/core/util/event.proto): wall time
/// (field 1, double, seconds since 1970), step (2, int64), file version (3, string),
/// summary (5), session log (7). A `Summary` holds repeated values (field 1), each a tag
/// (1, string) and a simple value (2, float): the form TensorBoard shows as scalar charts.
package enum TensorBoardEvent {
    /// The first event of every file: its wall time and the format version "brain.Event:2".
    package static func fileVersion(wallTime: Double) -> ProtobufMessage {
        var event = ProtobufMessage()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        return event
    }

    /// One event holding every value in `values` at `step`, tags in the order given, each
    /// value rounded to a Float.
    package static func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Double) -> ProtobufMessage {
        var event = ProtobufMessage()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(5) { summary in
            for (tag, value) in values {
                summary.message(1) { entry in
                    entry.string(1, tag)
                    entry.float(2, Float(value))
                }
            }
        }
        return event
    }

    /// A session-log START event at `step`: TensorBoard's reader then discards every point
    /// it has already read with a step of `step` or later (the points a resumed run logs
    /// again).
    package static func sessionStart(step: Int, wallTime: Double) -> ProtobufMessage {
        var event = ProtobufMessage()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(7) { log in log.int(1, 1) }  // SessionLog.status = START
        return event
    }
}

/// What can go wrong writing an event file; each message names the path and says what to do.
package enum TensorBoardError: Error, CustomStringConvertible {
    /// The file or its folder could not be created, or a write or flush failed.
    case unwritable(String, reason: String)
    /// `addScalars` or `flush` after `close`.
    case closed(String)

    package var description: String {
        switch self {
        case .unwritable(let path, let reason):
            return "cannot write the TensorBoard event file \(path): \(reason); check the folder's permissions and free space"
        case .closed(let path):
            return "the TensorBoard event file \(path) is already closed; open a new writer to log more"
        }
    }
}

/// An event file TensorBoard reads as one run's scalar charts: a new file per writer,
/// records appended whole, so a process killed at any moment leaves a file whose every
/// record is intact (TensorBoard stops quietly at a cut last record, should a disk fill).
///
/// Each record goes to the kernel as it is added, so TensorBoard sees it at once and it
/// survives the process being killed; `flush` also makes it survive a power cut. Use from
/// one thread at a time.
package final class TensorBoardEventWriter {
    /// The event file.
    package let url: URL
    /// The open file, or -1 once closed.
    private var descriptor: Int32
    /// The bytes written so far: where a failed write is cut back to.
    private var size: off_t = 0

    /// Creates a new event file in `folder` (creating the folder if needed), named
    /// `events.out.tfevents.<seconds, 10 digits>.<host>.<pid>.<n>` with the first `n` from 0
    /// whose name is free: an existing file is never opened or replaced. Writes the
    /// file-version event.
    /// - Throws: `TensorBoardError.unwritable` when the folder or file cannot be created
    ///   or written.
    package init(folder: URL, wallTime: Double = Date().timeIntervalSince1970) throws(TensorBoardError) {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .unwritable(folder.path, reason: error.localizedDescription)
        }
        let seconds = String(format: "%010lld", Int64(wallTime.rounded(.down)))
        let stem = "events.out.tfevents.\(seconds).\(Self.hostName()).\(getpid())."
        var counter = 0
        while true {
            let candidate = folder.appendingPathComponent(stem + String(counter))
            let fd = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 {
                url = candidate
                descriptor = fd
                break
            }
            guard errno == EEXIST else {
                throw .unwritable(candidate.path, reason: String(cString: strerror(errno)))
            }
            counter += 1
        }
        do {
            try append(TensorBoardEvent.fileVersion(wallTime: wallTime))
        } catch {
            Glibc.close(descriptor)
            unlink(url.path)
            throw error
        }
    }

    deinit { close() }

    /// Appends one event at `step` holding every value in `values` (tags in the order
    /// given, values rounded to Float) as one record, passed to the kernel in one write.
    /// - Throws: `TensorBoardError.unwritable` when the write fails (the file is then cut
    ///   back to its last whole record), `.closed` after `close()`.
    package func addScalars(
        _ values: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970
    ) throws(TensorBoardError) {
        try append(TensorBoardEvent.scalars(values, step: step, wallTime: wallTime))
    }

    /// Appends a session-log START event at `step`, for a run resumed from a checkpoint
    /// taken at `step - 1` or earlier: TensorBoard then drops the points an earlier file
    /// holds from `step` on, which the resumed run logs again.
    /// - Throws: as `addScalars`.
    package func addSessionStart(step: Int, wallTime: Double = Date().timeIntervalSince1970) throws(TensorBoardError) {
        try append(TensorBoardEvent.sessionStart(step: step, wallTime: wallTime))
    }

    /// Makes everything written so far durable (fsync).
    /// - Throws: `TensorBoardError.unwritable` when the file system reports an error,
    ///   `.closed` after `close()`.
    package func flush() throws(TensorBoardError) {
        guard descriptor >= 0 else { throw .closed(url.path) }
        guard fsync(descriptor) == 0 else { throw .unwritable(url.path, reason: String(cString: strerror(errno))) }
    }

    /// Closes the file (without an fsync: call `flush()` first for that). Calling it again
    /// does nothing; the writer also closes its file when released.
    package func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    /// Writes `event` as one record: one `write` call unless the kernel takes less, the rest
    /// then retried; on failure the file is cut back to the records before it.
    private func append(_ event: ProtobufMessage) throws(TensorBoardError) {
        guard descriptor >= 0 else { throw .closed(url.path) }
        let record = TensorBoardRecords.framed(event.bytes)
        let failure = AtomicFile.writeAll(Data(record), to: descriptor)
        guard failure == 0 else {
            ftruncate(descriptor, size)
            throw .unwritable(url.path, reason: String(cString: strerror(failure)))
        }
        size += off_t(record.count)
    }

    /// This machine's name with anything but letters, digits, `.`, `-` and `_` replaced by
    /// `_` (it becomes part of a file name), or "localhost" when it has none.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let safe = name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        }
        return safe.isEmpty ? "localhost" : String(safe)
    }
}
