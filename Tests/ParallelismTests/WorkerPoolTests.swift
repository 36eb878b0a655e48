import Parallelism
import Synchronization
import XCTest

final class WorkerPoolTests: XCTestCase {
    /// Counts how often each piece ran (behind a lock: pieces run on several threads).
    private func runCounts(_ pool: WorkerPool, pieces: Int) -> [Int] {
        let counts = Mutex([Int](repeating: 0, count: pieces))
        pool.run(pieces: pieces) { piece in counts.withLock { $0[piece] += 1 } }
        return counts.withLock { $0 }
    }

    func testEveryPieceRunsExactlyOnceForAnyThreadCount() {
        for threads in [1, 2, 3, 8] {
            let pool = WorkerPool(threadCount: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for pieces in [1, 2, 7, 100] {
                // Many jobs in a row: each must see its own pieces, none of the last job's.
                for _ in 0..<50 {
                    XCTAssertEqual(runCounts(pool, pieces: pieces), Array(repeating: 1, count: pieces),
                                   "\(threads) threads, \(pieces) pieces")
                }
            }
            pool.shutDown()
        }
    }

    func testPinnedJobsGiveEachThreadItsOwnIndexEveryTime() {
        let pool = WorkerPool(threadCount: 4)
        defer { pool.shutDown() }
        for _ in 0..<100 {
            let seen = Mutex([Int](repeating: 0, count: 4))
            let sizes = Mutex([Int](repeating: 0, count: 4))
            pool.runOnEachThread { thread, threads in
                seen.withLock { $0[thread] += 1 }
                sizes.withLock { $0[thread] = threads }
            }
            XCTAssertEqual(seen.withLock { $0 }, [1, 1, 1, 1])
            XCTAssertEqual(sizes.withLock { $0 }, [4, 4, 4, 4])
        }
    }

    func testAJobStartedInsideAJobRunsInlineInOrder() {
        let pool = WorkerPool(threadCount: 3)
        defer { pool.shutDown() }
        let inner = Mutex([[Int]](repeating: [], count: 4))
        pool.run(pieces: 4) { outer in
            pool.run(pieces: 5) { piece in inner.withLock { $0[outer].append(piece) } }
        }
        XCTAssertEqual(inner.withLock { $0 }, Array(repeating: [0, 1, 2, 3, 4], count: 4))
        var pinned: [(Int, Int)] = []
        pool.run(pieces: 2) { outer in
            guard outer == 0 else { return }
            pool.runOnEachThread { pinned.append(($0, $1)) }
        }
        XCTAssertEqual(pinned.map(\.0), [0])
        XCTAssertEqual(pinned.map(\.1), [1])
    }

    func testShutDownJoinsTheWorkersAndThePoolStillRunsJobsSerially() {
        let pool = WorkerPool(threadCount: 4)
        XCTAssertEqual(pool.liveWorkerCount, 3)
        XCTAssertEqual(runCounts(pool, pieces: 9), Array(repeating: 1, count: 9))
        pool.shutDown()
        XCTAssertEqual(pool.liveWorkerCount, 0)
        XCTAssertEqual(pool.threadCount, 1)
        XCTAssertEqual(runCounts(pool, pieces: 9), Array(repeating: 1, count: 9))
        pool.shutDown()  // twice is harmless
        pool.setThreadCount(2)
        XCTAssertEqual(pool.liveWorkerCount, 1)
        XCTAssertEqual(runCounts(pool, pieces: 5), Array(repeating: 1, count: 5))
        pool.shutDown()
    }

    /// Workers do not keep their pool alive: dropping the last reference stops and joins them.
    func testAPoolThatIsDroppedEndsItsWorkers() {
        weak var dropped: WorkerPool?
        do {
            let pool = WorkerPool(threadCount: 3)
            XCTAssertEqual(runCounts(pool, pieces: 6), Array(repeating: 1, count: 6))
            dropped = pool
        }
        XCTAssertNil(dropped)
    }

    func testWorkersThatSleptWakeForTheNextJob() {
        let pool = WorkerPool(threadCount: 2)
        defer { pool.shutDown() }
        XCTAssertEqual(runCounts(pool, pieces: 4), [1, 1, 1, 1])
        usleep(50_000)  // long enough for the worker to stop spinning and sleep
        let threads = Mutex<Set<UInt>>([])
        pool.runOnEachThread { _, _ in
            threads.withLock { _ = $0.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) }
        }
        XCTAssertEqual(threads.withLock { $0.count }, 2, "both threads ran their piece")
    }

    func testAvailableProcessorsIsPositive() {
        XCTAssertGreaterThanOrEqual(WorkerPool.availableProcessors, 1)
    }
}
