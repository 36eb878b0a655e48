import Foundation

/// Comma-separated tables as RFC 4180 writes them: fields with a comma, a quote or a line
/// break are quoted, quotes doubled. Reading is bounded: hostile files are refused with a
/// message, never a crash.
public enum CSV {
    /// The most bytes a table may hold.
    public static let maximumSize = 64 << 20
    /// The most fields a row may hold.
    public static let maximumColumns = 10_000

    /// A table's text: the header, then one line per row.
    public static func text(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\n" }.joined()
    }

    private static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The rows of `text` (the header first); a row shorter or longer than the header is an error.
    public static func rows(_ text: String, name: String) throws(CSVError) -> [[String]] {
        guard text.utf8.count <= maximumSize else {
            throw .malformed(name, "it is \(text.utf8.count) bytes; at most \(maximumSize) are read")
        }
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false, atFieldStart = true
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRow() throws(CSVError) {
            row.append(field)
            field = ""
            guard row.count <= maximumColumns else { throw .malformed(name, "a row has more than \(maximumColumns) fields") }
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
            atFieldStart = true
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && atFieldStart {
                quoted = true
                atFieldStart = false
            } else if c == "," {
                row.append(field)
                field = ""
                atFieldStart = true
                guard row.count <= maximumColumns else { throw .malformed(name, "a row has more than \(maximumColumns) fields") }
            } else if c == "\n" {
                try endRow()
            } else if c == "\r" {
                continue
            } else {
                field.unicodeScalars.append(c)
                atFieldStart = false
            }
        }
        guard !quoted else { throw .malformed(name, "a quoted field is never closed") }
        if !field.isEmpty || !row.isEmpty { try endRow() }
        if let width = rows.first?.count {
            for (i, r) in rows.enumerated() where r.count != width {
                throw .malformed(name, "line \(i + 1) has \(r.count) fields; the header has \(width)")
            }
        }
        return rows
    }
}

/// A table that cannot be read.
public enum CSVError: Error, Equatable, CustomStringConvertible {
    case malformed(String, String)
    public var description: String {
        switch self {
        case .malformed(let name, let reason): "cannot read \(name) as a CSV table: \(reason)"
        }
    }
}
