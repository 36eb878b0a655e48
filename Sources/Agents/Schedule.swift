/// A value that changes linearly with training progress, then stays put: learning-rate
/// annealing (PPO), ε decay (DQN), clip-range decay.
public struct LinearSchedule: Equatable, Sendable, Codable {
    public var start: Double
    public var end: Double
    /// The fraction of training (0...1) over which the value moves from `start` to `end`.
    public var fraction: Double

    public init(start: Double, end: Double, fraction: Double = 1) {
        self.start = start
        self.end = end
        self.fraction = fraction
    }

    /// A schedule that always gives `value`.
    public static func constant(_ value: Double) -> Self { Self(start: value, end: value, fraction: 1) }

    /// The value after `step` of `totalSteps`.
    public func value(atStep step: Int, of totalSteps: Int) -> Double {
        guard fraction > 0, totalSteps > 0 else { return end }
        let progress = min(1, Double(step) / (fraction * Double(totalSteps)))
        return start + (end - start) * progress
    }
}
