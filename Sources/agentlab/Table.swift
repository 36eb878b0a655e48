import Foundation

/// A plain-text table: the first row is the header, columns padded to their widest cell.
struct Table {
    var rows: [[String]]

    var rendered: String {
        guard let header = rows.first else { return "" }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        let rule = widths.enumerated().map { i, w in String(repeating: "-", count: i == widths.count - 1 ? max(w, 4) : w) }
        return ([line(header), rule.joined(separator: "  ")] + rows.dropFirst().map(line)).joined(separator: "\n")
    }
}

extension Double {
    /// The value with at most `significantDigits` digits and no trailing zeros ("475", "0.5").
    func formatted(significantDigits: Int) -> String {
        if self == rounded(), Swift.abs(self) < 1e15 { return String(Int(self)) }
        var text = String(format: "%.\(significantDigits)g", self)
        if text.contains("."), !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
