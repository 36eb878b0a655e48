#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Training

/// The median of `samples` (which it sorts).
func median(_ samples: [Double]) -> Double {
    precondition(!samples.isEmpty, "median of no samples")
    let sorted = samples.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Times `body` `repetitions` times after `warmUp` untimed calls and returns each call's
/// duration in microseconds.
func timeEach(warmUp: Int, repetitions: Int, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmUp { body() }
    var samples = [Double]()
    samples.reserveCapacity(repetitions)
    for _ in 0..<repetitions {
        let start = monotonicNanoseconds()
        body()
        samples.append(Double(monotonicNanoseconds() - start) / 1000)
    }
    return samples
}

#if os(Linux)
private let RUSAGE_SELF_VALUE = Int32(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif
import Training

/// The process's peak resident memory so far, in MiB.
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF_VALUE, &usage)
    #if os(Linux)
    return Double(usage.ru_maxrss) / 1024  // KiB on Linux
    #else
    return Double(usage.ru_maxrss) / 1_048_576  // bytes on macOS
    #endif
}
