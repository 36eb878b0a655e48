/// Observes the last `frameCount` observations of `Base` at once (Gymnasium's
/// `FrameStackObservation`), so a memoryless policy can see motion.
///
/// **Layout.** The stack is concatenated along the base observation's last axis, oldest
/// frame first. For a base shape `[d0, ..., dr, C]` the stacked shape is
/// `[d0, ..., dr, C·k]` with `k = frameCount`, and
///
///     stacked[p·(C·k) + j·C + c] = frame_j[p·C + c]
///
/// for every position `p` (the row-major index over the leading axes), frame `j` in
/// `0..<k` (`0` the oldest, `k - 1` the observation just written) and channel `c` in
/// `0..<C`. For a channels-last image `[10, 10, C]` this gives `[10, 10, C·k]` with each
/// cell's channels of all k frames side by side; for a vector `[n]` it gives `[n·k]`, the k
/// vectors one after another. A scalar shape `[]` counts as `C = 1`.
///
/// **Reset** fills all k frames with copies of the first observation. A step writes the
/// new observation over the oldest frame; the wrapper keeps its k frames in a ring of its
/// own and copies them out in the layout above, so it allocates nothing per step (each copy
/// of the wrapper owns its ring, made unique on its first reset).
public struct FrameStack<Base: Environment>: Environment {
    /// The wrapped environment.
    public var base: Base
    /// How many observations are stacked (k).
    public let frameCount: Int
    /// The stacked shape and bounds: the base's, repeated k times along the last axis.
    public let observationSpace: Box
    /// Floats in one base observation.
    @usableFromInline let frameSize: Int
    /// The size of the base's last axis (C).
    @usableFromInline let channelCount: Int
    /// The k most recent base observations, `frameSize` floats each, in ring order.
    @usableFromInline var ring: [Float]
    /// The ring slot holding the newest observation.
    @usableFromInline var newestSlot = 0

    /// Stacks the last `frameCount` (at least 1) observations of `base`.
    public init(_ base: Base, frameCount: Int) {
        precondition(frameCount >= 1, "a frame stack needs at least one frame, got \(frameCount)")
        self.base = base
        self.frameCount = frameCount
        let space = base.observationSpace
        frameSize = space.count
        channelCount = space.shape.last ?? 1
        ring = [Float](repeating: 0, count: frameSize * frameCount)

        let positions = frameSize / channelCount
        var low = [Float](), high = [Float]()
        low.reserveCapacity(frameSize * frameCount)
        high.reserveCapacity(frameSize * frameCount)
        for p in 0..<positions {
            for _ in 0..<frameCount {
                low.append(contentsOf: space.low[(p * channelCount)..<((p + 1) * channelCount)])
                high.append(contentsOf: space.high[(p * channelCount)..<((p + 1) * channelCount)])
            }
        }
        var shape = space.shape.isEmpty ? [1] : space.shape
        shape[shape.count - 1] *= frameCount
        observationSpace = Box(low: low, high: high, shape: shape)
    }

    public var actionSpace: ActionSpace { base.actionSpace }
    public var actionNames: [String] { base.actionNames }

    @inlinable
    public mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == frameSize * frameCount,
                     "a stack of \(frameCount) frames needs \(frameSize * frameCount) floats, got \(observation.count)")
        let size = frameSize, k = frameCount
        ring.withUnsafeMutableBufferPointer { ring in
            let first = UnsafeMutableBufferPointer(rebasing: ring[0..<size])
            base.reset(seed: seed, into: first)
            for slot in 1..<max(k, 1) {
                (ring.baseAddress! + slot * size).update(from: first.baseAddress!, count: size)
            }
        }
        newestSlot = k - 1
        writeStack(into: observation)
    }

    @inlinable
    public mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try stacking(observation) { (base, frame) throws(EnvironmentError) in try base.step(action, into: frame) }
    }

    public mutating func step(_ action: UnsafeBufferPointer<Float>, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        try stacking(observation) { (base, frame) throws(EnvironmentError) in try base.step(action, into: frame) }
    }

    /// One step of the base into the oldest frame's slot, then the stack into `observation`.
    @usableFromInline mutating func stacking(
        _ observation: UnsafeMutableBufferPointer<Float>,
        _ stepBase: (inout Base, UnsafeMutableBufferPointer<Float>) throws(EnvironmentError) -> StepOutcome
    ) throws(EnvironmentError) -> StepOutcome {
        precondition(observation.count == frameSize * frameCount,
                     "a stack of \(frameCount) frames needs \(frameSize * frameCount) floats, got \(observation.count)")
        // The new observation goes over the oldest frame, which is the slot after the newest.
        let slot = newestSlot + 1 == frameCount ? 0 : newestSlot + 1
        let size = frameSize
        let outcome = try ring.withUnsafeMutableBufferPointer {
            (ring) throws(EnvironmentError) -> StepOutcome in
            try stepBase(&base, UnsafeMutableBufferPointer(rebasing: ring[(slot * size)..<((slot + 1) * size)]))
        }
        newestSlot = slot
        writeStack(into: observation)
        return outcome
    }

    /// Copies the ring out in the documented layout, oldest frame first.
    @usableFromInline
    func writeStack(into observation: UnsafeMutableBufferPointer<Float>) {
        let size = frameSize, k = frameCount, channels = channelCount
        let positions = size / channels
        let output = observation.baseAddress!
        ring.withUnsafeBufferPointer { ring in
            let frames = ring.baseAddress!
            for j in 0..<k {
                // Frame j (0 = oldest) lives in the slot after the newest, j places on.
                var slot = newestSlot + 1 + j
                if slot >= k { slot -= k }
                let frame = frames + slot * size
                if positions == 1 {
                    (output + j * channels).update(from: frame, count: channels)
                } else {
                    for p in 0..<positions {
                        (output + p * channels * k + j * channels).update(from: frame + p * channels, count: channels)
                    }
                }
            }
        }
    }

    public func render() -> Frame { base.render() }
}

extension FrameStack: Sendable where Base: Sendable {}
