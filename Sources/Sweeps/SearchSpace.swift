import Foundation

/// One setting's value in a sweep: what a search proposes and a trial table records.
public enum SweepValue: Hashable, Sendable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    /// The value as a number, for the numeric domains (`nil` for text and booleans).
    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        case .bool, .string: nil
        }
    }

    /// Text that reads back to the same value: doubles in their shortest exact form.
    public var description: String {
        switch self {
        case .bool(let v): v ? "true" : "false"
        case .int(let v): String(v)
        case .double(let v): "\(v)"
        case .string(let v): v
        }
    }
}

/// The values one setting may take.
public enum Domain: Equatable, Sendable {
    /// Any real number in the range, drawn evenly.
    case uniform(ClosedRange<Double>)
    /// Any positive real number in the range, drawn evenly on a log scale (learning rates).
    case logUniform(ClosedRange<Double>)
    /// Any whole number in the range.
    case integer(ClosedRange<Int>)
    /// One of the listed values (a grid axis, or a categorical setting).
    case choice([SweepValue])

    /// The values a grid walks through, or `nil` for a continuous range.
    public var gridValues: [SweepValue]? {
        switch self {
        case .choice(let values): values
        case .integer(let range) where range.count <= SearchSpace.maximumGridSize: range.map { .int($0) }
        case .integer, .uniform, .logUniform: nil
        }
    }

    /// Whether `value` lies in the domain.
    public func contains(_ value: SweepValue) -> Bool {
        switch (self, value) {
        case (.choice(let values), _): values.contains(value)
        case (.integer(let range), .int(let v)): range.contains(v)
        case (.uniform(let range), _), (.logUniform(let range), _): value.number.map(range.contains) ?? false
        case (.integer, _): false
        }
    }

    /// The domain's extreme values, which a sweep checks against the configuration's
    /// limits before anything runs (every value, for a list).
    public var extremes: [SweepValue] {
        switch self {
        case .choice(let values): values
        case .integer(let range): [.int(range.lowerBound), .int(range.upperBound)]
        case .uniform(let range), .logUniform(let range): [.double(range.lowerBound), .double(range.upperBound)]
        }
    }
}

/// A setting searched over: its dotted key in the run configuration (`ppo.learning_rate`)
/// and its domain.
public struct Parameter: Equatable, Sendable {
    public let key: String
    public let domain: Domain
    public init(key: String, domain: Domain) {
        self.key = key
        self.domain = domain
    }
}

/// The values chosen for each parameter of one configuration, in the space's key order.
public typealias Assignment = [SweepValue]

/// The settings a sweep searches, in alphabetical order of their keys (so a spec's
/// proposals do not depend on how its YAML file orders them).
public struct SearchSpace: Equatable, Sendable {
    public let parameters: [Parameter]

    /// The most configurations a grid may hold.
    public static let maximumGridSize = 10_000

    public init(_ parameters: [Parameter]) {
        self.parameters = parameters.sorted { $0.key < $1.key }
    }

    public var keys: [String] { parameters.map(\.key) }

    /// Every combination of the grid axes, the last key changing fastest; `nil` when a
    /// parameter is a continuous range.
    public func grid() -> [Assignment]? {
        var axes: [[SweepValue]] = []
        for parameter in parameters {
            guard let values = parameter.domain.gridValues else { return nil }
            axes.append(values)
        }
        guard let count = gridSize, count <= Self.maximumGridSize else { return nil }
        var result: [Assignment] = [[]]
        for axis in axes {
            result = result.flatMap { prefix in axis.map { prefix + [$0] } }
        }
        return count == 0 ? [] : result
    }

    /// How many configurations the grid holds (`nil` for continuous ranges or an overflow).
    public var gridSize: Int? {
        var count = 1
        for parameter in parameters {
            guard let values = parameter.domain.gridValues else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: values.count)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }
}
