import Foundation
import Parallelism
import Synchronization

/// `count` copies of a Gymnasium environment in Python worker processes, behind the same
/// `VectorStepping` interface as AgentLab's own vectors (`agentlab train --env gymnasium:ID`).
///
/// The copies are spread over `workers` processes in contiguous blocks. A step sends every
/// worker its block's actions before reading any reply, so the workers step at the same
/// time, on as many cores as there are workers. Each worker resets a copy whose episode
/// ends within the same step (Gymnasium's same-step autoreset) and returns its final
/// observation, so the buffers follow `VectorStepping`'s contract exactly.
///
/// Seeding follows `VectorStepping` too: `reset(seed: s)` calls copy `i`'s
/// `env.reset(seed=seedForCopy(i, of: s))`; the first reset of an unseeded vector counts as
/// `reset(seed: 0)`. Gymnasium environments cannot hand over their state, so
/// `savedState()` is nil (a resumed run starts new episodes).
///
/// A failure (an exception in the environment, a worker that died or stopped answering)
/// is thrown by the next `step` as `.copyFailed(copy:, .external(message))`, naming the
/// environment, the copy and the step; `reset` cannot throw, so a failure there is kept
/// and thrown by the next `step`. The workers are closed when the vector is released.
public final class GymnasiumVectorEnvironment: VectorStepping {
    public let count: Int
    public let observationSpace: Box
    public let actionSpace: ActionSpace
    public let observationSize: Int
    /// Unused: the copies run in the worker processes, not on threads of this one.
    public var parallelThreshold = Int.max
    public var workerPool: WorkerPool = .shared
    /// What the worker said the environment is.
    let environmentDescription: GymnasiumDescription
    let id: String

    private var workers: [GymnasiumWorker]
    /// `blocks[w]` is the range of copies worker `w` hosts.
    private let blocks: [Range<Int>]
    private var observationStorage: [Float]
    private var finalObservationStorage: [Float]
    private var rewardStorage: [Float]
    private var terminatedStorage: [Bool]
    private var truncatedStorage: [Bool]
    private var returnStorage: [Double]
    private var lengthStorage: [Int]
    private var runningReturns: [Double]
    private var runningLengths: [Int]
    private var hasBeenReset = false
    /// The failure that the next step throws.
    private var pendingFailure: (copy: Int, error: GymnasiumError)?
    private let recycles: Bool

    /// Starts `workers` processes (default: `GymnasiumBridge.workerCount(copies:)`) hosting
    /// `count` copies of Gymnasium's `id` (without the `gymnasium:` prefix); `render` makes
    /// them with `render_mode="rgb_array"` so `render(copy:)` draws them.
    public init(id: String, count: Int, workers: Int? = nil, render: Bool = false) throws(GymnasiumError) {
        precondition(count > 0, "a vector needs at least one copy")
        let workerCount = min(count, max(1, workers ?? GymnasiumBridge.workerCount(copies: count)))
        var blocks = [Range<Int>](), start = 0
        for w in 0..<workerCount {
            let size = count / workerCount + (w < count % workerCount ? 1 : 0)
            blocks.append(start..<(start + size))
            start += size
        }
        var started = [GymnasiumWorker]()
        for block in blocks {
            if workerCount == 1, let idle = IdleWorkers.take(id: id, copies: block.count, render: render) {
                started.append(idle)
            } else {
                started.append(try GymnasiumWorker(id: id, copies: block.count, firstCopy: block.lowerBound, render: render))
            }
        }
        recycles = workerCount == 1
        self.id = id
        self.count = count
        self.workers = started
        self.blocks = blocks
        environmentDescription = started[0].description
        observationSpace = environmentDescription.observationSpace
        actionSpace = environmentDescription.actionSpace
        observationSize = observationSpace.count
        observationStorage = Array(repeating: 0, count: count * observationSize)
        finalObservationStorage = observationStorage
        rewardStorage = Array(repeating: 0, count: count)
        terminatedStorage = Array(repeating: false, count: count)
        truncatedStorage = terminatedStorage
        returnStorage = Array(repeating: 0, count: count)
        lengthStorage = Array(repeating: 0, count: count)
        runningReturns = returnStorage
        runningLengths = lengthStorage
    }

    deinit {
        for worker in workers {
            if recycles, worker.failure == nil { IdleWorkers.put(worker) } else { worker.close() }
        }
    }

    public var observations: UnsafeBufferPointer<Float> { observationStorage.withUnsafeBufferPointer { $0 } }
    public var finalObservations: UnsafeBufferPointer<Float> { finalObservationStorage.withUnsafeBufferPointer { $0 } }
    public var rewards: UnsafeBufferPointer<Float> { rewardStorage.withUnsafeBufferPointer { $0 } }
    public var isTerminated: UnsafeBufferPointer<Bool> { terminatedStorage.withUnsafeBufferPointer { $0 } }
    public var isTruncated: UnsafeBufferPointer<Bool> { truncatedStorage.withUnsafeBufferPointer { $0 } }
    public var finishedEpisodeReturns: UnsafeBufferPointer<Double> { returnStorage.withUnsafeBufferPointer { $0 } }
    public var finishedEpisodeLengths: UnsafeBufferPointer<Int> { lengthStorage.withUnsafeBufferPointer { $0 } }

    public func reset(seed: UInt64?) {
        let seed = seed ?? (hasBeenReset ? nil : 0)
        reset { copy in seed.map { seedForCopy(copy, of: $0) } }
    }

    /// Resets copy `i` with `env.reset(seed=seeds(i))`, unseeded where that is nil.
    func reset(seeds: (Int) -> UInt64?) {
        hasBeenReset = true
        pendingFailure = nil
        for i in 0..<count {
            terminatedStorage[i] = false; truncatedStorage[i] = false
            runningReturns[i] = 0; runningLengths[i] = 0
        }
        var sent = [Bool](repeating: false, count: workers.count)
        for (w, block) in blocks.enumerated() {
            var message = GymnasiumMessage(opcode: .reset, capacity: block.count * 9)
            for copy in block {
                let seed = seeds(copy)
                message.append(UInt8(seed == nil ? 0 : 1))
                message.append(seed ?? 0)
            }
            do { try workers[w].send(message.bytes); sent[w] = true } catch { keep(error, copy: block.lowerBound) }
        }
        for (w, block) in blocks.enumerated() where sent[w] {
            do throws(GymnasiumError) {
                var reader = GymnasiumReader(try workers[w].receiveReply(), id: id)
                try observationStorage.withUnsafeMutableBufferPointer { (all) throws(GymnasiumError) in
                    try reader.readFloats(into: UnsafeMutableBufferPointer(
                        rebasing: all[(block.lowerBound * observationSize)..<(block.upperBound * observationSize)]))
                }
                guard reader.isAtEnd else { throw .protocolViolation(id: id, detail: "trailing bytes after RESET's reply") }
            } catch {
                keep(error, copy: block.lowerBound)
            }
        }
    }

    public func step(_ actions: UnsafeBufferPointer<Int>) throws(VectorEnvironmentError) {
        guard case .discrete(let space) = actionSpace else {
            throw .invalidContinuousAction(copy: -1, expected: actionSpace)
        }
        guard actions.count == count else { throw .wrongActionCount(actions.count, expected: count) }
        for (copy, action) in actions.enumerated() where !space.contains(action) {
            throw .invalidAction(copy: copy, action: action, count: space.count)
        }
        try step { message, block in
            for copy in block { message.append(Int64(actions[copy])) }
        }
    }

    public func step(_ actions: UnsafeBufferPointer<Float>) throws(VectorEnvironmentError) {
        let width = actionSpace.width
        guard actionSpace.isContinuous, actions.count == count * width else {
            throw .invalidContinuousAction(copy: -1, expected: actionSpace)
        }
        for copy in 0..<count where !actions[(copy * width)..<((copy + 1) * width)].allSatisfy(\.isFinite) {
            throw .invalidContinuousAction(copy: copy, expected: actionSpace)
        }
        try step { message, block in
            message.append(floats: UnsafeBufferPointer(rebasing: actions[(block.lowerBound * width)..<(block.upperBound * width)]))
        }
    }

    /// Sends every worker its STEP, then reads the replies into the buffers.
    private func step(_ appendActions: (inout GymnasiumMessage, Range<Int>) -> Void) throws(VectorEnvironmentError) {
        guard hasBeenReset else { throw .notReset }
        try throwPendingFailure()
        var sent = [Bool](repeating: false, count: workers.count)
        for (w, block) in blocks.enumerated() {
            var message = GymnasiumMessage(opcode: .step, capacity: block.count * max(8, 4 * actionSpace.width))
            appendActions(&message, block)
            do { try workers[w].send(message.bytes); sent[w] = true } catch { keep(error, copy: block.lowerBound) }
        }
        for (w, block) in blocks.enumerated() where sent[w] {
            do { try readStep(from: workers[w], block: block) } catch { keep(error, copy: block.lowerBound) }
        }
        try throwPendingFailure()
    }

    private func readStep(from worker: GymnasiumWorker, block: Range<Int>) throws(GymnasiumError) {
        var reader = GymnasiumReader(try worker.receiveReply(), id: id)
        let size = observationSize
        try observationStorage.withUnsafeMutableBufferPointer { (all) throws(GymnasiumError) in
            try reader.readFloats(into: UnsafeMutableBufferPointer(
                rebasing: all[(block.lowerBound * size)..<(block.upperBound * size)]))
        }
        for copy in block { rewardStorage[copy] = Float(try reader.readDouble()) }
        for copy in block { terminatedStorage[copy] = try reader.read(UInt8.self) != 0 }
        for copy in block { truncatedStorage[copy] = try reader.read(UInt8.self) != 0 }
        for copy in block {
            runningReturns[copy] += Double(rewardStorage[copy])
            runningLengths[copy] += 1
            guard terminatedStorage[copy] || truncatedStorage[copy] else { continue }
            try finalObservationStorage.withUnsafeMutableBufferPointer { (all) throws(GymnasiumError) in
                try reader.readFloats(into: UnsafeMutableBufferPointer(rebasing: all[(copy * size)..<((copy + 1) * size)]))
            }
            returnStorage[copy] = runningReturns[copy]
            lengthStorage[copy] = runningLengths[copy]
            runningReturns[copy] = 0
            runningLengths[copy] = 0
        }
        guard reader.isAtEnd else { throw .protocolViolation(id: id, detail: "trailing bytes after STEP's reply") }
    }

    private func keep(_ error: GymnasiumError, copy: Int) {
        if pendingFailure == nil { pendingFailure = (copy, error) }
    }

    private func throwPendingFailure() throws(VectorEnvironmentError) {
        guard let (copy, error) = pendingFailure else { return }
        throw .copyFailed(copy: copy, .external(error.description))
    }

    /// Copy `copy` as Gymnasium renders it (`rgb_array`); a black frame with the failure
    /// kept for the next step when the environment cannot render.
    public func render(copy: Int) -> Frame {
        precondition(copy >= 0 && copy < count, "copy \(copy) is outside 0..<\(count)")
        let w = blocks.firstIndex { $0.contains(copy) }!
        var message = GymnasiumMessage(opcode: .render)
        message.append(UInt32(copy - blocks[w].lowerBound))
        do throws(GymnasiumError) {
            var reader = GymnasiumReader(try workers[w].exchange(message.bytes), id: id)
            let height = Int(try reader.read(UInt32.self)), width = Int(try reader.read(UInt32.self))
            guard height > 0, width > 0, height <= 8192, width <= 8192 else {
                throw GymnasiumError.protocolViolation(id: id, detail: "a frame of \(width)×\(height) pixels")
            }
            var frame = Frame(width: width, height: height)
            frame.pixels = Array(try reader.readBytes(count: width * height * 3))
            return frame
        } catch {
            keep(error, copy: copy)
            return Frame(width: 64, height: 64)
        }
    }

    public func savedState() -> Data? { nil }

    public func restoreState(from data: Data) throws(EnvironmentError) {
        throw .invalidConfiguration("gymnasium:\(id) cannot restore a saved state: Gymnasium environments do not hand "
            + "theirs over")
    }
}

/// Single-worker connections kept after their environment was released, so evaluating
/// many episodes (each on a fresh environment) does not start a Python process for each.
/// Every user resets with a seed first, so a recycled worker behaves as a new one.
enum IdleWorkers {
    private static let idle = Mutex<[GymnasiumWorker]>([])
    private static let limit = 32

    static func take(id: String, copies: Int, render: Bool) -> GymnasiumWorker? {
        idle.withLock { workers in
            guard let index = workers.firstIndex(where: {
                $0.id == id && $0.copies == copies && $0.rendersFrames == render
            }) else { return nil }
            return workers.remove(at: index)
        }
    }

    static func put(_ worker: GymnasiumWorker) {
        let evicted = idle.withLock { workers -> GymnasiumWorker? in
            workers.append(worker)
            return workers.count > limit ? workers.removeFirst() : nil
        }
        evicted?.close()
    }
}
