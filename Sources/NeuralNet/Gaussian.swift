import Autodiff
import SeededRandom

/// A batch of diagonal Gaussian distributions over continuous actions, one per row of
/// `mean` [batch, dimensions]: each dimension independent with its own standard deviation
/// e^logStandardDeviation. `logStandardDeviation` is [batch, dimensions] (a network's
/// output, SAC) or [dimensions] (one learned vector for every state, PPO's and CleanRL's
/// `ppo_continuous_action.py`), broadcast over the rows.
public struct DiagonalGaussian {
    /// μ, [batch, dimensions]; differentiable.
    public let mean: Tensor
    /// log σ, [batch, dimensions] or [dimensions]; differentiable.
    public let logStandardDeviation: Tensor

    /// ½·log(2π).
    public static let halfLogTwoPi: Float = 0.918_938_533_204_672_7

    public init(mean: Tensor, logStandardDeviation: Tensor) {
        precondition(mean.rank == 2, "DiagonalGaussian needs a mean [batch, dimensions], got \(mean.shape)")
        precondition(logStandardDeviation.shape == mean.shape || logStandardDeviation.shape == [mean.shape[1]],
                     "log standard deviations \(logStandardDeviation.shape) fit neither \(mean.shape) nor [\(mean.shape[1])]")
        self.mean = mean
        self.logStandardDeviation = logStandardDeviation
    }

    public var batchSize: Int { mean.shape[0] }
    public var dimensions: Int { mean.shape[1] }

    /// log N(x; μ, σ²) summed over dimensions, per row: Σ −(x − μ)²/(2σ²) − log σ − ½log 2π;
    /// differentiable in μ and log σ (and in `x` when it is), shape [batch].
    public func logProbability(of x: Tensor) -> Tensor {
        precondition(x.shape == mean.shape, "actions \(x.shape) do not match the mean \(mean.shape)")
        let z = (x - mean) * exp(-logStandardDeviation)
        let perDimension = square(z) * -0.5 - logStandardDeviation - Self.halfLogTwoPi
        return perDimension.sum(alongAxis: 1)
    }

    /// The entropy Σ (½ + ½log 2π + log σ) per row; differentiable, shape [batch].
    public func entropy() -> Tensor {
        let perDimension = logStandardDeviation + (0.5 + Self.halfLogTwoPi)
        if perDimension.rank == 1 {
            // One σ for every row: the same entropy for each.
            let total = perDimension.sum()
            return total.reshaped(to: [1]) * Tensor.ones([batchSize])
        }
        return perDimension.sum(alongAxis: 1)
    }

    /// μ + σ·ε with ε drawn from `generator`, one standard normal per element in row order:
    /// the reparameterised sample, differentiable in μ and log σ, [batch, dimensions].
    public func sample(using generator: inout SeededGenerator) -> Tensor {
        let noise = Tensor(shape: mean.shape, scalars: (0..<mean.count).map { _ in Float(generator.normal()) })
        return mean + exp(logStandardDeviation) * noise
    }

    /// The standard deviations, [batch, dimensions] or [dimensions] (not recorded).
    public var standardDeviation: [Float] { logStandardDeviation.scalars.map { FastMath.exp($0) } }
}

/// A Gaussian squashed by tanh into (−1, 1) per dimension (SAC's policy, Haarnoja et al.
/// 2018, appendix C): a = tanh(u), u ~ N(μ, σ²), with
/// log π(a) = log N(u; μ, σ²) − Σ log(1 − a² + ε), ε = 1e-6 keeping the logarithm finite
/// where tanh saturates (SB3's and CleanRL's choice).
public struct SquashedGaussian {
    public let base: DiagonalGaussian
    /// The ε inside log(1 − a² + ε).
    public static let epsilon: Float = 1e-6

    public init(mean: Tensor, logStandardDeviation: Tensor) {
        base = DiagonalGaussian(mean: mean, logStandardDeviation: logStandardDeviation)
    }

    /// A reparameterised sample a = tanh(μ + σ·ε) and its log-probability [batch], both
    /// differentiable in μ and log σ.
    public func sampleWithLogProbability(using generator: inout SeededGenerator) -> (actions: Tensor, logProbability: Tensor) {
        let u = base.sample(using: &generator)
        let a = tanh(u)
        let correction = log((1 - square(a)) + Self.epsilon).sum(alongAxis: 1)
        return (a, base.logProbability(of: u) - correction)
    }

    /// tanh(μ): the most likely action's squashed mean (acting greedily).
    public var mode: Tensor { tanh(base.mean) }
}
