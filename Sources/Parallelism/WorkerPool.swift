#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Persistent worker threads that run the pieces of one job at a time: the process's
/// only source of parallelism (vector environments, acting, data-parallel updates,
/// evaluation all run on `WorkerPool.shared`).
///
/// **Determinism.** `run(pieces:_:)` splits nothing itself: the caller decides the pieces
/// (shards of a minibatch, slices of environment copies), and each piece must compute
/// the same thing whichever thread runs it. Work split into a number of pieces that
/// does not depend on `threadCount`, combined in piece order, gives the same bits for
/// any thread count.
///
/// **Cost.** Workers spin for a short while after a job before they sleep, so the jobs
/// of a training step, which come every few tens of microseconds, find them awake; a
/// job costs about a microsecond to hand out then, and tens of microseconds after an
/// idle spell.
///
/// **Nesting.** A job started while another one runs (a piece that itself calls `run`,
/// or a second thread) runs its pieces in order on the calling thread.
public final class WorkerPool: @unchecked Sendable {
    /// The pool every part of the process shares; one thread (the caller's) until
    /// `setThreadCount` says otherwise.
    public static let shared = WorkerPool(threadCount: 1)

    /// The number of processors this process may use, at least 1.
    public static var availableProcessors: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// How many threads a job runs on, the caller's included.
    public var threadCount: Int { workers.count + 1 }

    /// The job being run: its pieces and what to do with each.
    private struct Job {
        var pieces = 0
        var body: ((Int) -> Void)?
        /// Thread `t` runs piece `t` (the caller 0, worker `k` piece `k + 1`), one each.
        var isPinned = false
    }

    /// One worker's thread and the last job generation it finished.
    private final class Worker: @unchecked Sendable {
        var thread: pthread_t?
        let finishedGeneration = Atomic<Int>(0)
        /// This worker's piece of a pinned job.
        let index: Int
        init(index: Int) { self.index = index }
    }

    /// What a new worker thread needs, handed over through `pthread_create`'s pointer. The
    /// pool is held unretained: workers must not keep it alive, since its `deinit` is what
    /// stops and joins them (and its storage lasts until that `deinit` returns).
    private final class WorkerStart {
        let pool: Unmanaged<WorkerPool>
        let worker: Worker
        let seenGeneration: Int
        init(pool: Unmanaged<WorkerPool>, worker: Worker, seenGeneration: Int) {
            self.pool = pool
            self.worker = worker
            self.seenGeneration = seenGeneration
        }
    }

    private var workers: [Worker] = []
    /// Written by the caller before `generation` is raised; read by workers after they see it.
    private var job = Job()
    /// Raised once per job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// The next piece of the current job to hand out.
    private let nextPiece = Atomic<Int>(0)
    /// Set while a job runs: a second job meanwhile runs inline.
    private let isBusy = Atomic<Bool>(false)
    private let isStopping = Atomic<Bool>(false)
    /// Guards the sleep of idle workers.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    /// How long an idle worker keeps checking for the next job before it sleeps: longer
    /// than the serial stretches of a training step (an optimiser step, sampling), so those
    /// do not pay a wake-up, short enough that a pool left idle costs nothing.
    private let spinNanoseconds: UInt64 = 300_000

    /// A pool of `threadCount` threads: the caller's and `threadCount − 1` workers.
    public init(threadCount: Int) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        wakeUp = .allocate(capacity: 1)
        pthread_cond_init(wakeUp, nil)
        startWorkers(threadCount - 1)
    }

    deinit {
        stopWorkers()
        pthread_cond_destroy(wakeUp)
        wakeUp.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Replaces the workers so that jobs run on `count` threads (at least 1), waiting for
    /// the old workers to end. Call it between jobs, not from inside one.
    public func setThreadCount(_ count: Int) {
        precondition(count >= 1, "a worker pool needs at least one thread, got \(count)")
        guard count != threadCount else { return }
        stopWorkers()
        startWorkers(count - 1)
    }

    /// Ends every worker thread and waits for them (the caller's thread remains, so the
    /// pool still runs jobs, serially). Idempotent.
    public func shutDown() {
        stopWorkers()
    }

    /// The number of worker threads alive (tests check that a shut-down pool left none).
    public var liveWorkerCount: Int { workers.count }

    /// Runs `body(i)` for every `i` in `0..<pieces`, spread over the pool's threads, and
    /// returns when all are done. Pieces may run in any order and on any thread, so they
    /// must touch disjoint data.
    public func run(pieces: Int, _ body: (Int) -> Void) {
        guard pieces > 0 else { return }
        guard pieces > 1, !workers.isEmpty, isBusy.compareExchange(
            expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<pieces { body(i) }
            return
        }
        defer { isBusy.store(false, ordering: .releasing) }
        runJob(Job(pieces: pieces, body: nil, isPinned: false), body)
    }

    /// Runs `body(t, threadCount)` once on each of the pool's threads, `t` from 0 (the
    /// caller) to `threadCount − 1`, and returns when all are done: thread `t` gets the
    /// same `t` every time, so data it owns stays in its cache. Inside another job, it
    /// runs `body(0, 1)` on the calling thread.
    public func runOnEachThread(_ body: (_ thread: Int, _ threads: Int) -> Void) {
        guard !workers.isEmpty, isBusy.compareExchange(
            expected: false, desired: true, ordering: .acquiring).exchanged else {
            return body(0, 1)
        }
        defer { isBusy.store(false, ordering: .releasing) }
        let threads = threadCount
        runJob(Job(pieces: threads, body: nil, isPinned: true)) { body($0, threads) }
    }

    /// Publishes `job` with `body`, takes the caller's share and waits for every worker.
    private func runJob(_ job: Job, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var job = job
            job.body = body
            self.job = job
            nextPiece.store(0, ordering: .relaxed)
            let current = generation.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wakeUp)
            pthread_mutex_unlock(mutex)
            takePieces(as: 0)
            // Every worker acknowledges every job, so none still holds this one when the next
            // one resets `nextPiece`.
            for worker in workers {
                var spins = 0
                while worker.finishedGeneration.load(ordering: .acquiring) != current {
                    spins += 1
                    if spins > 1_000 { sched_yield() }
                }
            }
            self.job = Job()
        }
    }

    /// Runs pieces of the current job until none is left.
    private func takePieces(as thread: Int) {
        let pieces = job.pieces
        guard let body = job.body else { return }
        if job.isPinned {
            if thread < pieces { body(thread) }
            return
        }
        while true {
            let piece = nextPiece.wrappingAdd(1, ordering: .relaxed).oldValue
            guard piece < pieces else { return }
            body(piece)
        }
    }

    private func startWorkers(_ count: Int) {
        isStopping.store(false, ordering: .sequentiallyConsistent)
        let seen = generation.load(ordering: .sequentiallyConsistent)
        for _ in 0..<max(0, count) {
            let worker = Worker(index: workers.count + 1)
            worker.finishedGeneration.store(seen, ordering: .relaxed)
            let context = Unmanaged.passRetained(WorkerStart(pool: .passUnretained(self), worker: worker, seenGeneration: seen))
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                context.pool._withUnsafeGuaranteedRef {
                    $0.workLoop(context.worker, seenGeneration: context.seenGeneration)
                }
                return nil
            }, context.toOpaque())
            guard status == 0 else {
                context.release()
                break  // fewer threads: jobs still complete, on the threads that exist
            }
            worker.thread = thread
            workers.append(worker)
        }
    }

    private func stopWorkers() {
        guard !workers.isEmpty else { return }
        isStopping.store(true, ordering: .sequentiallyConsistent)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
        for worker in workers {
            if let thread = worker.thread { pthread_join(thread, nil) }
        }
        workers = []
    }

    /// A monotonic clock in nanoseconds.
    private static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func workLoop(_ worker: Worker, seenGeneration: Int) {
        var seen = seenGeneration
        while true {
            var spins = 0
            let idleSince = Self.nanoseconds()
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                // The clock is read every 256 checks only.
                if spins & 255 == 0, Self.nanoseconds() - idleSince > spinNanoseconds {
                    pthread_mutex_lock(mutex)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(wakeUp, mutex)
                    }
                    pthread_mutex_unlock(mutex)
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if isStopping.load(ordering: .sequentiallyConsistent) { return }
            takePieces(as: worker.index)
            worker.finishedGeneration.store(current, ordering: .releasing)
        }
    }
}
