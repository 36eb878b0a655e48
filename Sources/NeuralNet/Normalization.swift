import Autodiff
import Synchronization

/// Layer normalisation (Ba et al. 2016) over the last axis: y = x̂ · weight + bias with
/// x̂ = (x − mean) / √(var + ε) per row and the biased variance, as torch's `nn.LayerNorm`
/// over one trailing axis. Inputs are [..., size] of any rank; the statistics are each
/// row's own, so training and evaluation behave the same.
public final class LayerNorm: Layer {
    /// The scale per feature, [size], starting at ones (torch's name `weight`).
    public let weight: Tensor
    /// The shift per feature, [size], starting at zeros.
    public let bias: Tensor
    /// Added to the variance before the square root.
    public let epsilon: Float

    /// A layer normalising rows of `size` features, with weight ones and bias zeros.
    public init(size: Int, epsilon: Float = 1e-5) {
        precondition(size > 0, "LayerNorm needs a positive size, got \(size)")
        precondition(epsilon >= 0, "LayerNorm: epsilon must not be negative, got \(epsilon)")
        weight = .ones([size], requiresGradient: true)
        bias = .zeros([size], requiresGradient: true)
        self.epsilon = epsilon
    }

    private init(weight: Tensor, bias: Tensor, epsilon: Float) {
        self.weight = weight
        self.bias = bias
        self.epsilon = epsilon
    }

    /// The same layer over the same parameters, with gradients of its own.
    public func replica() -> LayerNorm { LayerNorm(weight: weight.replica(), bias: bias.replica(), epsilon: epsilon) }
    /// The same layer over the same parameters, passing no gradient to them.
    public func constantReplica() -> LayerNorm {
        LayerNorm(weight: weight.constantView(), bias: bias.constantView(), epsilon: epsilon)
    }

    /// The number of features normalised together (the last axis of an input).
    public var size: Int { weight.shape[0] }

    /// Normalises each row of the last axis of `input` [..., size], then scales and shifts.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard input.rank >= 1, input.shape[input.rank - 1] == size else {
            shapeFailure(ShapeError("LayerNorm: input \(input.shape) does not end in \(size) features"))
        }
        return input.layerNormalized(epsilon: epsilon) * weight + bias
    }

    /// `"weight"` and `"bias"`, torch's names.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight), ("bias", bias)]
    }
}

/// Batch normalisation (Ioffe and Szegedy 2015) of the last axis: for [N, features]
/// inputs each feature, and for channels-last [N, H, W, C] inputs each channel, is
/// normalised over every other axis, then scaled by `weight` and shifted by `bias`, as
/// torch's `BatchNorm1d` and `BatchNorm2d` (on NCHW) do.
///
/// - Training mode (`isTraining`, the default): normalises by the batch's mean and
///   biased variance (the gradient flows through both), and folds the batch's mean and
///   unbiased variance into the running statistics:
///   running ← (1 − momentum)·running + momentum·batch. The update is not recorded in the
///   graph. A batch needs more than one value per feature (torch's rule).
/// - Evaluation mode (`setTraining(false)`): normalises by the running statistics.
///
/// Unlike `Dropout`, the mode alone decides, not `GradientMode`: call `setTraining(false)`
/// before acting or computing targets, or those calls normalise by (and update from)
/// their own batch.
///
/// Replicas (`replica()`, `constantReplica()`) share the parameters and also the running
/// statistics, so a data-parallel update in training mode folds every shard's statistics
/// in, one shard call after another (k shards make k running updates per step, each with
/// that shard's rows). Shards running at once take turns through a lock, in no fixed
/// order, so with more than one shard the running statistics, unlike the gradients,
/// depend on which shard comes first (two updates swapped differ by momentum² times the
/// difference of the shards' statistics); train with one shard where they must be
/// reproducible.
public final class BatchNorm: Layer {
    /// The scale per feature, [features], starting at ones.
    public let weight: Tensor
    /// The shift per feature, [features], starting at zeros.
    public let bias: Tensor
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// The weight of a new batch in the running statistics.
    public let momentum: Float
    /// Whether batch statistics are used (and the running statistics updated).
    public private(set) var isTraining = true
    /// The running statistics, shared with every replica.
    private let statistics: RunningStatistics

    /// A layer for inputs whose last axis has `features` entries, with weight ones, bias
    /// zeros, running mean zeros and running variance ones (torch's starting values).
    public init(features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        precondition(features > 0, "BatchNorm needs a positive feature count, got \(features)")
        precondition(epsilon >= 0, "BatchNorm: epsilon must not be negative, got \(epsilon)")
        precondition((0...1).contains(momentum), "BatchNorm: momentum must be in [0, 1], got \(momentum)")
        weight = .ones([features], requiresGradient: true)
        bias = .zeros([features], requiresGradient: true)
        self.epsilon = epsilon
        self.momentum = momentum
        statistics = RunningStatistics(features: features)
    }

    private init(weight: Tensor, bias: Tensor, of original: BatchNorm) {
        self.weight = weight
        self.bias = bias
        epsilon = original.epsilon
        momentum = original.momentum
        isTraining = original.isTraining
        statistics = original.statistics
    }

    /// Shares the running statistics (see the type's documentation).
    public func replica() -> BatchNorm { BatchNorm(weight: weight.replica(), bias: bias.replica(), of: self) }
    /// Shares the running statistics (see the type's documentation).
    public func constantReplica() -> BatchNorm {
        BatchNorm(weight: weight.constantView(), bias: bias.constantView(), of: self)
    }

    /// The number of features (the last axis of an input).
    public var features: Int { weight.shape[0] }

    /// The running mean per feature, [features] (no gradient; updated in place).
    public var runningMean: Tensor { statistics.mean }
    /// The running unbiased variance per feature, [features] (no gradient; updated in place).
    public var runningVariance: Tensor { statistics.variance }

    /// Training (`true`: batch statistics) or evaluation (`false`: running statistics).
    public func setTraining(_ isTraining: Bool) { self.isTraining = isTraining }

    /// Normalises `input` [N, features] or [N, ..., features] per feature, then scales
    /// and shifts; in training mode also updates the running statistics.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let features = self.features
        guard input.rank >= 2, input.shape[input.rank - 1] == features else {
            shapeFailure(ShapeError(
                "BatchNorm: input \(input.shape) is not [N, \(features)] or channels-last [N, ..., \(features)]"))
        }
        let rows = input.count / features
        guard isTraining else {
            // (x − running mean) · (weight / √(running var + ε)) + bias.
            let (mean, inverseDeviation) = statistics.evaluationConstants(epsilon: epsilon)
            return (input - mean) * (inverseDeviation * weight) + bias
        }
        precondition(rows > 1, "BatchNorm: training needs more than one value per feature, input is \(input.shape)")
        statistics.update(from: input, rows: rows, momentum: momentum)
        // Each feature's column of the [rows, features] view is a row of its transpose.
        let columns = input.rank == 2 ? input : input.reshaped(to: [rows, features])
        let normalized = columns.transposed().layerNormalized(epsilon: epsilon).transposed()
        let output = normalized * weight + bias
        return input.rank == 2 ? output : output.reshaped(to: input.shape)
    }

    /// `"weight"` and `"bias"`, torch's names.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight), ("bias", bias)]
    }

    /// `"running_mean"` and `"running_var"`, torch's names.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        [("running_mean", statistics.mean), ("running_var", statistics.variance)]
    }
}

/// BatchNorm's running mean and variance, shared by a layer and its replicas; reads and
/// updates hold a lock, because data-parallel shards may run at once.
private final class RunningStatistics {
    /// The running mean per feature.
    let mean: Tensor
    /// The running unbiased variance per feature.
    let variance: Tensor
    /// Serialises updates from shards running at once.
    let lock = Mutex(())

    init(features: Int) {
        mean = .zeros([features])
        variance = .ones([features])
    }

    /// Folds the per-feature mean and unbiased variance of `input` (`rows` values per
    /// feature, features on the last axis) into the running statistics.
    func update(from input: Tensor, rows: Int, momentum: Float) {
        let features = mean.count
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 2 * features)
        defer { sums.deallocate() }
        let batchMean = sums, squares = sums + features
        batchMean.initialize(repeating: 0, count: features)
        squares.initialize(repeating: 0, count: features)
        let px = input.storage
        for r in 0..<rows {
            let row = px + r * features
            for j in 0..<features { batchMean[j] += row[j] }
        }
        let scale = 1 / Float(rows)
        for j in 0..<features { batchMean[j] *= scale }
        for r in 0..<rows {
            let row = px + r * features
            for j in 0..<features {
                let d = row[j] - batchMean[j]
                squares[j] += d * d
            }
        }
        let unbiased = 1 / Float(rows - 1)
        lock.withLock { _ in
            let pm = mean.storage, pv = variance.storage
            for j in 0..<features {
                pm[j] = (1 - momentum) * pm[j] + momentum * batchMean[j]
                pv[j] = (1 - momentum) * pv[j] + momentum * squares[j] * unbiased
            }
        }
    }

    /// Copies of the running mean and of 1/√(running variance + ε), as constants.
    func evaluationConstants(epsilon: Float) -> (mean: Tensor, inverseDeviation: Tensor) {
        let (means, variances) = lock.withLock { _ in (mean.scalars, variance.scalars) }
        let inverses = variances.map { 1 / ($0 + epsilon).squareRoot() }
        return (Tensor(shape: mean.shape, scalars: means), Tensor(shape: variance.shape, scalars: inverses))
    }
}
