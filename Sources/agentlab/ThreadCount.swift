import ArgumentParser
import Parallelism

/// The `--threads` option of `train`, `eval` and `bench`: the worker pool's size.
enum ThreadCount {
    /// Refuses a count outside 1...1,024, naming it.
    static func check(_ threads: Int) throws {
        guard (1...1_024).contains(threads) else {
            throw ValidationError("--threads must be between 1 and 1024, got \(threads)")
        }
    }

    /// Sizes the shared worker pool: `threads`, or every core the process may use.
    static func apply(_ threads: Int?) {
        WorkerPool.shared.setThreadCount(threads ?? WorkerPool.availableProcessors)
    }
}
