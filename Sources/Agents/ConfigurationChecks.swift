import Foundation

/// Range checks for configuration fields, shared by every algorithm's `validate(copies:)`:
/// each failure is a `TrainingError.invalidConfiguration` naming the key, what it must be
/// and the value it has. Non-finite numbers never pass.
public enum Require {
    /// `value` lies in the closed interval `range`.
    public static func value(_ key: String, _ value: Double, in range: ClosedRange<Double>) throws(TrainingError) {
        guard value.isFinite, range.contains(value) else {
            throw .invalidConfiguration("\(key) must be in [\(text(range.lowerBound)), \(text(range.upperBound))], got \(text(value))")
        }
    }

    /// `value` is above zero and at most `limit`.
    public static func positive(_ key: String, _ value: Double, atMost limit: Double = 1e12) throws(TrainingError) {
        guard value.isFinite, value > 0 else { throw .invalidConfiguration("\(key) must be positive, got \(text(value))") }
        guard value <= limit else { throw .invalidConfiguration("\(key) must be at most \(text(limit)), got \(text(value))") }
    }

    /// `value` is zero or more and at most `limit`.
    public static func nonNegative(_ key: String, _ value: Double, atMost limit: Double = 1e12) throws(TrainingError) {
        guard value.isFinite, value >= 0 else { throw .invalidConfiguration("\(key) must not be negative, got \(text(value))") }
        guard value <= limit else { throw .invalidConfiguration("\(key) must be at most \(text(limit)), got \(text(value))") }
    }

    /// A whole number in `range`.
    public static func count(_ key: String, _ value: Int, in range: ClosedRange<Int>) throws(TrainingError) {
        guard range.contains(value) else {
            throw .invalidConfiguration("\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    /// A condition that the message explains.
    public static func that(_ condition: Bool, _ message: @autoclosure () -> String) throws(TrainingError) {
        if !condition { throw .invalidConfiguration(message()) }
    }

    /// Whole numbers without a decimal point, others as Swift prints them.
    static func text(_ value: Double) -> String {
        value.isFinite && value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}

/// Bytes as people read them: "3.2 GB".
public func byteCountText(_ bytes: Double) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
    var value = bytes, unit = 0
    while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f %@", value, units[unit])
}
