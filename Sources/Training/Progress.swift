import Foundation
import Synchronization

/// The signal that asked training to stop (SIGINT, SIGTERM or SIGHUP), or 0; the training
/// loop checks it every step, stops cleanly and saves.
package nonisolated let stopSignal = Atomic<Int32>(0)

/// Installs the stop handlers: Ctrl-C (SIGINT), SIGTERM and SIGHUP all ask training to stop
/// after the current step (the checkpoint is then saved, and the process exits with
/// 128 + the signal's number); a second signal of any of them ends the process at once.
package func installStopHandlers() {
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
        signal(signalNumber) { received in
            stopSignal.store(received, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
            signal(SIGHUP, SIG_DFL)
        }
    }
}

/// A signal's conventional name.
package func signalName(_ number: Int32) -> String {
    switch number {
    case SIGINT: "Ctrl-C (SIGINT)"
    case SIGTERM: "SIGTERM"
    case SIGHUP: "SIGHUP"
    default: "signal \(number)"
    }
}

/// Shows training progress: a redrawn bar on a terminal, a plain line every 10% otherwise.
package struct ProgressReporter {
    package let totalSteps: Int
    package let startStep: Int
    package let isTerminal: Bool
    private let startTime = monotonicNanoseconds()
    private var lastDraw: UInt64 = 0
    private var nextLineFraction = 0.1

    package init(totalSteps: Int, startStep: Int) {
        self.totalSteps = totalSteps
        self.startStep = startStep
        isTerminal = isatty(STDOUT_FILENO) == 1
    }

    package var elapsedSeconds: Double { Double(monotonicNanoseconds() - startTime) / 1e9 }

    /// Environment steps per second since the start.
    package func stepsPerSecond(at step: Int) -> Double {
        let elapsed = elapsedSeconds
        return elapsed > 0 ? Double(step - startStep) / elapsed : 0
    }

    package mutating func update(step: Int, episodes: Int, recentReturn: Double?) {
        let fraction = Double(step) / Double(max(totalSteps, 1))
        let now = monotonicNanoseconds()
        if isTerminal {
            guard now - lastDraw > 100_000_000 || step >= totalSteps else { return }
            lastDraw = now
            let width = 28, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            print("\r\(bar) \(line(step: step, episodes: episodes, recentReturn: recentReturn))\u{1B}[K", terminator: "")
            fflush(nil)  // all streams: naming `stdout` is not concurrency-safe in Swift 6
        } else if fraction >= nextLineFraction || step >= totalSteps {
            while nextLineFraction <= fraction { nextLineFraction += 0.1 }
            print(line(step: step, episodes: episodes, recentReturn: recentReturn))
            fflush(nil)  // a pipe is block-buffered: show each line as it is printed
        }
    }

    /// Ends the bar's line on a terminal.
    package func finish() {
        if isTerminal { print() }
    }

    private func line(step: Int, episodes: Int, recentReturn: Double?) -> String {
        let rate = stepsPerSecond(at: step)
        let left = rate > 0 ? Double(totalSteps - step) / rate : 0
        let returnText = recentReturn.map { String(format: "%.1f", $0) } ?? "–"
        return "\(step)/\(totalSteps) steps  \(Int(rate)) steps/s  \(episodes) episodes  "
            + "return \(returnText)  \(formatDuration(elapsedSeconds)) elapsed, \(formatDuration(left)) left"
    }
}

/// "1:05" or "2:03:09".
package func formatDuration(_ seconds: Double) -> String {
    let s = max(0, Int(seconds.rounded()))
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

/// Monotonic time in nanoseconds.
@inline(__always)
package func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// Writes `message` and a newline to standard error.
package func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}

/// Writes a line that is not an error to standard error (so standard output stays data).
package func printNote(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
