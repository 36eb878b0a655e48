import Foundation
#if canImport(Glibc)
import Glibc
#endif

// A small blocking HTTP/1.1 client, enough for the Ray executor to talk to a cluster's
// dashboard (its Job Submission REST API) without a networking package: one connection per
// request, plain `http://` only. The reply parser is separate from the socket code and
// bounds everything it reads, because a reply is input like any other: a server that sends
// garbage, too much, or nothing at all gets an `HTTPError` that says so.

// MARK: - Replies

/// A reply from an HTTP server.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code, 100...599.
    public let status: Int
    /// The header fields by lowercased name; a repeated field's values are joined with ", ".
    public let headers: [String: String]
    /// The body, with any chunked transfer coding undone.
    public let body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The reply in `bytes`, a whole exchange as a server wrote it before closing the
    /// connection: a status line, header fields, and a body framed by Content-Length,
    /// chunked transfer coding, or the end of the bytes. Interim 1xx replies are skipped.
    /// `method` is the request's (a reply to HEAD has no body).
    public static func parse(_ bytes: [UInt8], method: String = "GET") throws(HTTPError) -> HTTPResponse {
        var parser = HTTPResponseParser(method: method)
        if let response = try parser.feed(bytes) { return response }
        return try parser.finish()
    }
}

/// Reads one HTTP/1.x reply from bytes arriving in pieces of any size.
///
/// Limits, each refused with a message rather than read: the status line and header fields
/// together at most `maximumHeadBytes`, at most `maximumHeaderCount` fields, a body of at
/// most `maximumBodyBytes` (checked against Content-Length and every chunk size before any
/// of it is stored), chunk-size lines of at most `maximumChunkLineBytes`.
struct HTTPResponseParser {
    static let maximumHeadBytes = 64 << 10
    static let maximumHeaderCount = 100
    static let maximumBodyBytes = 16 << 20
    static let maximumChunkLineBytes = 4 << 10

    private enum State {
        case statusLine, headerLines
        case fixedBody(remaining: Int), bodyUntilClose
        case chunkSize, chunkData(remaining: Int), chunkDataEnd, trailerLines
        case done
    }

    private let isReplyToHEAD: Bool
    private var state = State.statusLine
    /// Received bytes not consumed yet start at `position`.
    private var buffer: [UInt8] = []
    private var position = 0
    /// Where the search for the next line feed resumes (bytes before it hold none).
    private var scannedTo = 0
    /// Bytes of status lines and header fields so far (interim replies included), and the
    /// same for trailer fields.
    private var headBytes = 0, trailerBytes = 0
    private var headerCount = 0, trailerCount = 0
    private var status = 0
    private var headers: [String: String] = [:]
    private var contentLength: Int? = nil
    private var body: [UInt8] = []

    init(method: String = "GET") {
        isReplyToHEAD = method == "HEAD"
    }

    /// Adds received bytes; returns the reply once it is complete (later bytes are ignored).
    mutating func feed(_ bytes: some Collection<UInt8>) throws(HTTPError) -> HTTPResponse? {
        if case .done = state { return response }
        buffer.append(contentsOf: bytes)
        try advance()
        if position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
            scannedTo = 0
        } else if position >= 64 << 10 {
            buffer.removeFirst(position)
            scannedTo -= position
            position = 0
        }
        if case .done = state { return response }
        return nil
    }

    /// The reply when the connection has closed: complete only if its framing allows it
    /// to end here (a body read until the close, or one already whole).
    mutating func finish() throws(HTTPError) -> HTTPResponse {
        switch state {
        case .done, .bodyUntilClose:
            state = .done
            return response
        case .statusLine where headBytes == 0 && position == buffer.count:
            throw .malformedReply(url: nil, reason: "the server closed the connection without replying")
        case .statusLine, .headerLines:
            throw .malformedReply(url: nil, reason: "the reply ends inside its header fields")
        case .fixedBody(let remaining):
            let announced = body.count + remaining
            throw .malformedReply(url: nil, reason: "the reply ends after \(body.count) of the \(announced) body bytes its Content-Length announced")
        case .chunkSize, .chunkData, .chunkDataEnd:
            throw .malformedReply(url: nil, reason: "the reply ends inside its chunked body, before the last (zero-size) chunk")
        case .trailerLines:
            throw .malformedReply(url: nil, reason: "the reply ends inside its trailer fields")
        }
    }

    private var response: HTTPResponse { HTTPResponse(status: status, headers: headers, body: body) }

    /// Consumes as much of the buffer as the current state can.
    private mutating func advance() throws(HTTPError) {
        while true {
            switch state {
            case .statusLine:
                guard let line = try nextLine(limit: Self.maximumHeadBytes - headBytes, tooLong: "its status line and header fields are longer than \(Self.maximumHeadBytes >> 10) KiB") else { return }
                headBytes += line.consumed
                try readStatusLine(line.bytes)
                state = .headerLines
            case .headerLines:
                guard let line = try nextLine(limit: Self.maximumHeadBytes - headBytes, tooLong: "its status line and header fields are longer than \(Self.maximumHeadBytes >> 10) KiB") else { return }
                headBytes += line.consumed
                if line.bytes.isEmpty {
                    try endOfHead()
                } else {
                    headerCount += 1
                    guard headerCount <= Self.maximumHeaderCount else {
                        throw .malformedReply(url: nil, reason: "it has more than \(Self.maximumHeaderCount) header fields")
                    }
                    try addHeader(line.bytes)
                }
            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + take)])
                position += take
                state = remaining == take ? .done : .fixedBody(remaining: remaining - take)
                if take < remaining { return }
            case .bodyUntilClose:
                let available = buffer.count - position
                guard body.count + available <= Self.maximumBodyBytes else {
                    throw .malformedReply(url: nil, reason: "its body is longer than \(Self.maximumBodyBytes >> 20) MiB")
                }
                body.append(contentsOf: buffer[position...])
                position = buffer.count
                return
            case .chunkSize:
                guard let line = try nextLine(limit: Self.maximumChunkLineBytes, tooLong: "a chunk-size line is longer than \(Self.maximumChunkLineBytes >> 10) KiB") else { return }
                let size = try chunkSize(line.bytes)
                guard size <= Self.maximumBodyBytes - body.count else {
                    throw .malformedReply(url: nil, reason: "its chunked body is longer than \(Self.maximumBodyBytes >> 20) MiB")
                }
                state = size == 0 ? .trailerLines : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + take)])
                position += take
                guard take == remaining else { state = .chunkData(remaining: remaining - take); return }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard let line = try nextLine(limit: 2, tooLong: "a chunk is longer than its size line says") else { return }
                guard line.bytes.isEmpty else {
                    throw .malformedReply(url: nil, reason: "a chunk is longer than its size line says")
                }
                state = .chunkSize
            case .trailerLines:
                guard let line = try nextLine(limit: Self.maximumHeadBytes - trailerBytes, tooLong: "its trailer fields are longer than \(Self.maximumHeadBytes >> 10) KiB") else { return }
                trailerBytes += line.consumed
                if line.bytes.isEmpty { state = .done; return }
                trailerCount += 1
                guard trailerCount <= Self.maximumHeaderCount else {
                    throw .malformedReply(url: nil, reason: "it has more than \(Self.maximumHeaderCount) trailer fields")
                }
                _ = try field(line.bytes)
            case .done:
                return
            }
        }
    }

    /// The next line (without its CRLF or LF) and the bytes it took, or nil until one has
    /// arrived; a line that cannot end within `limit` bytes is an error.
    private mutating func nextLine(limit: Int, tooLong: @autoclosure () -> String) throws(HTTPError) -> (bytes: ArraySlice<UInt8>, consumed: Int)? {
        let searchEnd = min(buffer.count, position + max(limit, 0))
        var i = max(scannedTo, position)
        while i < searchEnd && buffer[i] != UInt8(ascii: "\n") { i += 1 }
        guard i < searchEnd else {
            scannedTo = i
            if buffer.count - position >= limit { throw .malformedReply(url: nil, reason: tooLong()) }
            return nil
        }
        var end = i
        if end > position && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[position..<end]
        let consumed = i + 1 - position
        position = i + 1
        scannedTo = position
        return (line, consumed)
    }

    private mutating func readStatusLine(_ line: ArraySlice<UInt8>) throws(HTTPError) {
        // HTTP/1.x SP 3DIGIT [SP reason-phrase]
        let bytes = Array(line)
        let prefix = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, Array(bytes[0..<7]) == prefix, bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1"),
              bytes[8] == UInt8(ascii: " ")
        else {
            throw .malformedReply(url: nil, reason: "its status line \(Self.excerpt(line)) is not HTTP/1.0 or HTTP/1.1")
        }
        var code = 0
        for byte in bytes[9..<12] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw .malformedReply(url: nil, reason: "its status line \(Self.excerpt(line)) has no three-digit status code")
            }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard bytes.count == 12 || bytes[12] == UInt8(ascii: " ") else {
            throw .malformedReply(url: nil, reason: "its status line \(Self.excerpt(line)) has no three-digit status code")
        }
        guard (100...599).contains(code) else {
            throw .malformedReply(url: nil, reason: "its status code \(code) is outside 100...599")
        }
        guard !bytes.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7f }) else {
            throw .malformedReply(url: nil, reason: "its status line holds a control character")
        }
        status = code
    }

    /// A header or trailer field's lowercased name and its value.
    private func field(_ line: ArraySlice<UInt8>) throws(HTTPError) -> (name: String, value: String) {
        guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
            throw .malformedReply(url: nil, reason: "it has a folded (obsolete) header line \(Self.excerpt(line))")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformedReply(url: nil, reason: "its header line \(Self.excerpt(line)) has no colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else {
            throw .malformedReply(url: nil, reason: "its header line \(Self.excerpt(line)) has an invalid field name")
        }
        var value = line[(colon + 1)...]
        while let b = value.first, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { value.removeFirst() }
        while let b = value.last, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { value.removeLast() }
        guard !value.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7f }) else {
            throw .malformedReply(url: nil, reason: "its header field \(Self.excerpt(name)) holds a control character")
        }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))
    }

    private mutating func addHeader(_ line: ArraySlice<UInt8>) throws(HTTPError) {
        let (name, value) = try field(line)
        if name == "content-length" {
            let length = try Self.contentLength(value)
            if let contentLength, contentLength != length {
                throw .malformedReply(url: nil, reason: "it has conflicting Content-Length fields (\(contentLength) and \(length))")
            }
            contentLength = length
        }
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
    }

    /// Decides how the body is framed once the header fields have ended.
    private mutating func endOfHead() throws(HTTPError) {
        if (100..<200).contains(status) {
            // An interim reply (100 Continue, 103 Early Hints): the real one follows.
            guard status != 101 else { throw .malformedReply(url: nil, reason: "the server switched protocols (101), which this client does not ask for") }
            headers = [:]
            headerCount = 0
            contentLength = nil
            state = .statusLine
            return
        }
        if isReplyToHEAD || status == 204 || status == 304 {
            state = .done
        } else if let codings = headers["transfer-encoding"] {
            // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
            let list = codings.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "identity" }
            if let unsupported = list.first(where: { $0 != "chunked" }) {
                throw .malformedReply(url: nil, reason: "its Transfer-Encoding '\(unsupported)' is not supported (only chunked)")
            }
            switch list.count {
            case 0: state = .bodyUntilClose
            case 1: state = .chunkSize
            default: throw .malformedReply(url: nil, reason: "its Transfer-Encoding applies chunked more than once")
            }
        } else if let contentLength {
            state = contentLength == 0 ? .done : .fixedBody(remaining: contentLength)
        } else {
            state = .bodyUntilClose
        }
    }

    /// A Content-Length value: decimal digits only, at most `maximumBodyBytes`.
    private static func contentLength(_ text: String) throws(HTTPError) -> Int {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .malformedReply(url: nil, reason: "its Content-Length '\(text.prefix(40))' is not a non-negative whole number")
        }
        var value = 0
        for digit in digits {
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
            guard value <= maximumBodyBytes else {
                throw .malformedReply(url: nil, reason: "its Content-Length \(text.prefix(40)) is more than the \(maximumBodyBytes >> 20) MiB read")
            }
        }
        return value
    }

    /// A chunk-size line's size: hexadecimal digits, then optional `;extensions` (ignored).
    private func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPError) -> Int {
        var size = 0, digits = 0
        var rest = line[...]
        while let byte = rest.first, let digit = Self.hexValue(byte) {
            guard size <= (Int.max - digit) / 16 else {
                throw .malformedReply(url: nil, reason: "its chunk size \(Self.excerpt(line)) overflows")
            }
            size = size * 16 + digit
            digits += 1
            rest.removeFirst()
        }
        while let b = rest.first, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { rest.removeFirst() }
        guard digits > 0, rest.isEmpty || rest.first == UInt8(ascii: ";") else {
            throw .malformedReply(url: nil, reason: "its chunk-size line \(Self.excerpt(line)) is not a hexadecimal size")
        }
        return size
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// RFC 9110 token characters (field names).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Up to 60 bytes, quoted, with anything unprintable as \xNN.
    static func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        var text = "'"
        for byte in bytes.prefix(60) {
            if (0x20..<0x7f).contains(byte) && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += String(format: "\\x%02x", byte)
            }
        }
        return text + (bytes.count > 60 ? "…'" : "'")
    }
}

// MARK: - Addresses

/// An `http://host:port/path` address, checked: ASCII only, no user name or password,
/// IPv6 literals in brackets, port 80 unless given.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// The host name or IP address (an IPv6 one without its brackets).
    public let host: String
    public let port: Int
    /// The path and query, starting with "/".
    public let target: String

    public init(_ text: String) throws(HTTPError) {
        func invalid(_ reason: String) -> HTTPError { .invalidURL(String(text.prefix(200)), reason: reason) }
        guard text.utf8.count <= 8 << 10 else { throw invalid("it is longer than 8 KiB") }
        if text.lowercased().hasPrefix("https://") { throw .httpsUnsupported(text) }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw invalid("it holds a space, a control character or a non-ASCII character")
        }
        guard text.lowercased().hasPrefix("http://") else { throw invalid("it does not start with http://") }
        var rest = Substring(text.dropFirst("http://".count))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        guard !authority.contains("@") else { throw invalid("user names and passwords in the address are not supported") }
        var hostPart: Substring, portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("its IPv6 address has no closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw invalid("something follows its IPv6 address's ]") }
            portPart = after.isEmpty ? nil : after.dropFirst()
            guard !hostPart.isEmpty, hostPart.contains(":"),
                  hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" || $0.isLetter || $0.isNumber })
            else { throw invalid("'\(hostPart)' is not an IPv6 address") }
        } else {
            let colons = authority.filter { $0 == ":" }.count
            guard colons <= 1 else { throw invalid("write an IPv6 address in brackets, e.g. http://[::1]:8265") }
            if let colon = authority.firstIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            } else {
                hostPart = authority
                portPart = nil
            }
            guard !hostPart.isEmpty else { throw invalid("it has no host") }
            guard hostPart.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
                throw invalid("'\(hostPart)' is not a host name or IP address")
            }
        }
        var port = 80
        if let portPart {
            guard (1...5).contains(portPart.count), portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(portPart),
                  (1...65535).contains(value)
            else { throw invalid("its port '\(portPart)' is not a number in 1...65535") }
            port = value
        }
        host = String(hostPart)
        self.port = port
        target = path.isEmpty ? "/" : path.hasPrefix("?") ? "/" + path : String(path)
    }

    /// `host:port`, an IPv6 host in brackets (the Host field's value).
    public var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "http://\(authority)\(target)" }
}

// MARK: - Errors

/// Why an HTTP request got no usable reply. Each message names the address and says what
/// to try; they speak of the Ray dashboard because that is what this client talks to.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The address is not an `http://host:port/path` URL.
    case invalidURL(String, reason: String)
    /// An `https://` address: this client speaks plain HTTP only.
    case httpsUnsupported(String)
    /// The host name does not resolve.
    case cannotResolve(host: String, reason: String)
    /// Nothing accepted a connection at `address` (host:port).
    case cannotConnect(address: String, reason: String)
    /// No connection, or no complete reply, within the client's timeout; `phase` says
    /// which ("connecting to", "sending to", "waiting for a reply from").
    case timedOut(url: String, seconds: Double, phase: String)
    /// The connection broke while sending or receiving.
    case connectionLost(url: String, reason: String)
    /// The reply is not well-formed HTTP/1.x or breaks a size limit (`url` is nil when
    /// bytes were parsed on their own).
    case malformedReply(url: String?, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "'\(url)' is not an http://HOST:PORT address (\(reason)); give the Ray dashboard's address, e.g. http://127.0.0.1:8265"
        case .httpsUnsupported(let url):
            "\(url): https is not supported; use the dashboard's http:// address, or reach it through an SSH tunnel "
                + "(`ssh -N -L 8265:127.0.0.1:8265 HEAD`, then http://127.0.0.1:8265)"
        case .cannotResolve(let host, let reason):
            "cannot resolve the host '\(host)' (\(reason)): check the address, or give the Ray head's IP address"
        case .cannotConnect(let address, let reason):
            "cannot connect to \(address) (\(reason)): is the Ray head running? start it with "
                + "`ray start --head --dashboard-host=0.0.0.0`, and check that the port is the dashboard's (8265 by default)"
        case .timedOut(let url, let seconds, let phase):
            "timed out after \(seconds) s \(phase) \(url): check that the address is the Ray dashboard's, that no firewall "
                + "drops the connection, and that the head is not overloaded (`ray status` on the head)"
        case .connectionLost(let url, let reason):
            "the connection to \(url) broke (\(reason)): the Ray head may have restarted or stopped; try again"
        case .malformedReply(nil, let reason):
            "malformed HTTP reply: \(reason)"
        case .malformedReply(let url?, let reason):
            "malformed HTTP reply from \(url): \(reason); is the address the Ray dashboard's (port 8265 by default) "
                + "rather than another service's, such as the GCS port (6379)?"
        }
    }

    /// The same error with the request's URL filled in.
    fileprivate func located(at url: String) -> HTTPError {
        if case .malformedReply(nil, let reason) = self { return .malformedReply(url: url, reason: reason) }
        return self
    }
}

// MARK: - The client

/// A minimal blocking HTTP/1.1 client for `http://` URLs.
///
/// Each request opens its own connection (`Connection: close`), to every address the host
/// resolves to in turn (IPv6 and IPv4), and the whole exchange (connecting, sending, the
/// complete reply) must finish within `timeout` seconds. Name resolution itself is the
/// system's and is not covered by the timeout.
public struct HTTPClient: Sendable {
    /// The most seconds one request may take, from connecting to the reply's last byte.
    public let timeout: Double

    public init(timeout: Double = 30) {
        precondition(timeout > 0 && timeout.isFinite, "an HTTP timeout must be a positive number of seconds")
        self.timeout = timeout
    }

    /// Sends `method` (GET, POST, ...) to `url` with `jsonBody` as an application/json body,
    /// and returns the reply whatever its status.
    public func request(_ method: String, _ url: String, jsonBody: [UInt8]? = nil) throws(HTTPError) -> HTTPResponse {
        precondition(!method.isEmpty && method.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) },
                     "an HTTP method is upper-case letters")
        let address = try HTTPURL(url)
        let shown = address.description
        let deadline = Deadline(after: timeout)
        let socket = try connect(to: address, by: deadline)
        defer { close(socket) }

        var head = "\(method) \(address.target) HTTP/1.1\r\nHost: \(address.authority)\r\nUser-Agent: agentlab\r\n"
            + "Accept: application/json\r\nConnection: close\r\n"
        if let jsonBody {
            head += "Content-Type: application/json\r\nContent-Length: \(jsonBody.count)\r\n"
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        try send(Array(head.utf8) + (jsonBody ?? []), on: socket, by: deadline, url: shown)

        var parser = HTTPResponseParser(method: method)
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        do throws(HTTPError) {
            while true {
                guard try wait(socket, for: Int16(POLLIN), by: deadline, url: shown) else {
                    throw HTTPError.timedOut(url: shown, seconds: timeout, phase: "waiting for a reply from")
                }
                let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                    throw HTTPError.connectionLost(url: shown, reason: Self.systemMessage(errno))
                }
                if count == 0 { return try parser.finish() }
                if let response = try parser.feed(chunk[0..<count]) { return response }
            }
        } catch {
            throw error.located(at: shown)
        }
    }

    // MARK: Sockets

    /// A connected, blocking TCP socket to the first of `address`'s resolved addresses that
    /// accepts, with send and receive timeouts set and close-on-exec.
    private func connect(to address: HTTPURL, by deadline: Deadline) throws(HTTPError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let resolved = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard resolved == 0 else {
            let reason = resolved == EAI_SYSTEM ? Self.systemMessage(errno) : String(cString: gai_strerror(resolved))
            throw .cannotResolve(host: address.host, reason: reason)
        }
        defer { freeaddrinfo(list) }

        var lastError: Int32 = ECONNREFUSED
        var cursor = list
        while let info = cursor {
            cursor = info.pointee.ai_next
            let socket = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard socket >= 0 else { lastError = errno; continue }
            let flags = fcntl(socket, F_GETFL)
            _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
            var error: Int32 = 0
            if Glibc.connect(socket, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
                error = errno
                // A non-blocking connect interrupted by a signal goes on in the background.
                if error == EINPROGRESS || error == EINTR {
                    let writable: Bool
                    do throws(HTTPError) {
                        writable = try wait(socket, for: Int16(POLLOUT), by: deadline, url: "http://\(address.authority)")
                    } catch {
                        close(socket)
                        throw error
                    }
                    guard writable else {
                        close(socket)
                        throw .timedOut(url: "http://\(address.authority)", seconds: timeout, phase: "connecting to")
                    }
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    if getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
                }
            }
            guard error == 0 else {
                lastError = error
                close(socket)
                continue
            }
            _ = fcntl(socket, F_SETFL, flags & ~O_NONBLOCK)
            var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            return socket
        }
        throw .cannotConnect(address: address.authority, reason: Self.systemMessage(lastError))
    }

    /// Writes all of `bytes`, without SIGPIPE if the peer has gone.
    private func send(_ bytes: [UInt8], on socket: Int32, by deadline: Deadline, url: String) throws(HTTPError) {
        var offset = 0
        while offset < bytes.count {
            guard try wait(socket, for: Int16(POLLOUT), by: deadline, url: url) else {
                throw .timedOut(url: url, seconds: timeout, phase: "sending to")
            }
            let sent = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                throw .connectionLost(url: url, reason: Self.systemMessage(errno))
            }
            offset += sent
        }
    }

    /// Whether `socket` became ready for `events` before the deadline (errors and hang-ups
    /// count as ready: the read or write that follows reports them).
    private func wait(_ socket: Int32, for events: Int16, by deadline: Deadline, url: String) throws(HTTPError) -> Bool {
        var entry = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let remaining = deadline.remaining
            guard remaining > 0 else { return false }
            let milliseconds = Int32(min((remaining * 1000).rounded(.up), Double(Int32.max)))
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR {
                throw .connectionLost(url: url, reason: "poll: \(Self.systemMessage(errno))")
            }
        }
    }

    private static func systemMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// A point on the monotonic clock.
private struct Deadline {
    private let nanoseconds: UInt64

    init(after seconds: Double) { nanoseconds = Self.now() &+ UInt64(seconds * 1e9) }

    var remaining: Double { Double(Int64(bitPattern: nanoseconds &- Self.now())) / 1e9 }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
