import NeuralNet

/// A value that changes linearly with training progress, then stays put: learning-rate
/// annealing (`learningRate(_:annealed:)`, used by every agent) and ε decay (DQN).
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

    /// A learning rate: `rate` throughout, or, when `annealed`, falling linearly to 0 over
    /// the whole run (PPO's annealing; rate·(1 − step/totalSteps)).
    public static func learningRate(_ rate: Double, annealed: Bool) -> Self {
        annealed ? Self(start: rate, end: 0) : .constant(rate)
    }

    /// The value after `step` of `totalSteps`.
    public func value(atStep step: Int, of totalSteps: Int) -> Double {
        guard start != end else { return start }
        guard fraction > 0, totalSteps > 0 else { return end }
        let progress = min(1, Double(step) / (fraction * Double(totalSteps)))
        // start·(1 − p) + end·p: exact at both ends (start at p = 0, end at p = 1).
        return start * (1 - progress) + end * progress
    }
}

/// The learning rate after `step` of `totalSteps` environment steps: `rate` scaled by
/// `schedule` when the configuration has one (`learning_rate_schedule`, which then
/// replaces `anneal_learning_rate`); otherwise `rate` falling linearly to 0 when
/// `annealed`, and constant when not.
public func scheduledLearningRate(
    _ rate: Double, schedule: LearningRateSchedule?, annealed: Bool, atStep step: Int, of totalSteps: Int
) -> Double {
    if let schedule {
        return rate * schedule.factor(atProgress: totalSteps > 0 ? Double(step) / Double(totalSteps) : 1)
    }
    return LinearSchedule.learningRate(rate, annealed: annealed).value(atStep: step, of: totalSteps)
}

extension Require {
    /// A learning-rate schedule whose settings can be used; the message names the key.
    public static func schedule(_ schedule: LearningRateSchedule?) throws(TrainingError) {
        if let problem = schedule?.problem(prefix: "learning_rate_schedule") { throw .invalidConfiguration(problem) }
    }
}
