/// Clips every continuous action to `Base`'s bounds before it reaches `Base` (Gymnasium's
/// `ClipAction`). Built-in environments already clip what they use for their dynamics;
/// the wrapper matters where the unclipped action would leak elsewhere (MountainCarContinuous
/// charges its reward on the action as given) and for a user's environment that does not
/// clip. Discrete actions pass through unchanged.
public struct ClipAction<Base: Environment>: Environment {
    public var base: Base
    private var clipped: [Float]

    public init(_ base: Base) {
        self.base = base
        clipped = [Float](repeating: 0, count: base.actionSpace.box?.count ?? 0)
    }

    public var observationSpace: Box { base.observationSpace }
    public var actionSpace: ActionSpace { base.actionSpace }
    public var actionNames: [String] { base.actionNames }
    public var observationGrid: ObservationGrid? { base.observationGrid }
    public var observationNames: [String] { base.observationNames }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        base.reset(seed: seed, into: observation)
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try base.step(action, into: observation)
    }

    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard let box = base.actionSpace.box, action.count == box.count else {
            return try base.step(action, into: observation)  // the base reports the misfit
        }
        for j in 0..<box.count { clipped[j] = action[j].isNaN ? action[j] : min(max(action[j], box.low[j]), box.high[j]) }
        let clipped = self.clipped
        return try clipped.withUnsafeBufferPointer { (clipped) throws(EnvironmentError) -> StepOutcome in
            try base.step(clipped, into: observation)
        }
    }

    public func render() -> Frame { base.render() }
}

/// Presents `Base`'s bounded continuous actions as [−1, 1] per dimension and maps them back
/// linearly, a = low + (s + 1)·(high − low)/2, clipping s to [−1, 1] first (Gymnasium's
/// `RescaleAction` to [−1, 1] followed by a clip). A policy whose outputs live in [−1, 1]
/// then covers the whole box. Discrete actions, and boxes with an infinite bound, pass
/// through unchanged.
public struct RescaleAction<Base: Environment>: Environment {
    public var base: Base
    private let bounds: Box?
    private var mapped: [Float]

    public init(_ base: Base) {
        self.base = base
        if let box = base.actionSpace.box, box.low.allSatisfy(\.isFinite), box.high.allSatisfy(\.isFinite) {
            bounds = box
        } else {
            bounds = nil
        }
        mapped = [Float](repeating: 0, count: base.actionSpace.box?.count ?? 0)
    }

    public var observationSpace: Box { base.observationSpace }
    public var actionSpace: ActionSpace {
        guard let bounds else { return base.actionSpace }
        return .box(Box(low: -1, high: 1, shape: bounds.shape))
    }
    public var actionNames: [String] { base.actionNames }
    public var observationGrid: ObservationGrid? { base.observationGrid }
    public var observationNames: [String] { base.observationNames }

    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        base.reset(seed: seed, into: observation)
    }

    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try base.step(action, into: observation)
    }

    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        guard let bounds, action.count == bounds.count else { return try base.step(action, into: observation) }
        for j in 0..<bounds.count {
            let s = action[j].isNaN ? action[j] : min(max(action[j], -1), 1)
            mapped[j] = bounds.low[j] + (s + 1) * 0.5 * (bounds.high[j] - bounds.low[j])
        }
        let mapped = self.mapped
        return try mapped.withUnsafeBufferPointer { (mapped) throws(EnvironmentError) -> StepOutcome in
            try base.step(mapped, into: observation)
        }
    }

    public func render() -> Frame { base.render() }
}

extension ClipAction: Sendable where Base: Sendable {}
extension RescaleAction: Sendable where Base: Sendable {}
extension ClipAction: Codable where Base: Codable {}
extension RescaleAction: Codable where Base: Codable {
    private enum CodingKeys: String, CodingKey { case base }

    /// Only the base is state: the bounds follow from it.
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.container(keyedBy: CodingKeys.self).decode(Base.self, forKey: .base))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(base, forKey: .base)
    }
}
