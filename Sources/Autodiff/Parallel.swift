import Parallelism

/// Runs `body(i)` for every `i` in `0..<pieces` on the shared worker pool, each piece with
/// the caller's gradient mode (a worker thread would otherwise record gradients inside
/// the caller's `withoutGradients`).
///
/// Results are the same for any thread count when each piece computes the same values
/// wherever it runs and the caller combines the pieces in order.
public func parallelForEach(_ pieces: Int, _ body: (Int) -> Void) {
    let isRecording = GradientMode.isEnabled
    WorkerPool.shared.run(pieces: pieces) { piece in
        if GradientMode.isEnabled == isRecording {
            body(piece)
        } else {
            GradientMode.$isEnabled.withValue(isRecording) { body(piece) }
        }
    }
}
