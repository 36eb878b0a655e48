import Autodiff
import SeededRandom

/// A batch of categorical distributions over actions, one per row of `logits`
/// [batch, actions]: π(a) = softmax(logits)[a].
public struct Categorical {
    /// Normalised log-probabilities, [batch, actions]; differentiable.
    public let logProbabilities: Tensor

    public init(logits: Tensor) {
        precondition(logits.rank == 2, "Categorical needs logits [batch, actions], got \(logits.shape)")
        logProbabilities = logits.logSoftmax()
    }

    /// The distributions of already normalised log-probabilities [batch, actions] (rows
    /// whose exponentials sum to 1), used as they are.
    public init(logProbabilities: Tensor) {
        precondition(logProbabilities.rank == 2, "Categorical needs log-probabilities [batch, actions], got \(logProbabilities.shape)")
        self.logProbabilities = logProbabilities
    }

    public var batchSize: Int { logProbabilities.shape[0] }
    public var actionCount: Int { logProbabilities.shape[1] }

    /// log π(a) of one action per row; differentiable, shape [batch].
    public func logProbability(of actions: [Int]) -> Tensor {
        logProbabilities.gathering(atLastAxis: actions)
    }

    /// −Σ π log π per row; differentiable, shape [batch].
    public func entropy() -> Tensor {
        -(exp(logProbabilities) * logProbabilities).sum(alongAxis: 1)
    }

    /// One action per row, drawn by inverting the cumulative distribution with one
    /// uniform number per row from `generator`.
    public func sample(using generator: inout SeededGenerator) -> [Int] {
        let width = actionCount
        let p = logProbabilities.storage
        return (0..<batchSize).map { row in
            let u = generator.uniformFloat()
            var cumulative: Float = 0
            for a in 0..<width {
                cumulative += FastMath.exp(p[row * width + a])
                if u < cumulative { return a }
            }
            return width - 1  // rounding left the total a hair under 1
        }
    }

    /// The most probable action per row (ties: the first).
    public func mode() -> [Int] { logProbabilities.argmaxAlongLastAxis() }
}
