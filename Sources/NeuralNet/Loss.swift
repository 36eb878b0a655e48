import Autodiff

/// Mean squared error: mean((prediction − target)²). Shapes must broadcast; equal shapes
/// (the usual case) take the fused op.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    if prediction.shape == target.shape { return Tensor.meanSquaredDifference(prediction, target) }
    return square(prediction - target).mean()
}

/// Huber loss (PyTorch's `smooth_l1_loss` with β = δ = 1 by default, mean reduction):
/// ½d² where |d| ≤ δ, δ(|d| − ½δ) elsewhere, for d = prediction − target.
///
/// Built from primitives: with q = clamp(d, −δ, δ), the loss is q·(d − ½q), whose
/// derivative is d inside the band and ±δ outside. (`smooth_l1_loss` divides by β; for
/// δ = 1 the two agree.)
public func huberLoss(_ prediction: Tensor, _ target: Tensor, delta: Float = 1) -> Tensor {
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = prediction - target
    let q = clamp(d, min: -delta, max: delta)
    return (q * (d - q * 0.5)).mean()
}

/// Cross-entropy of `logits` [batch, classes] against integer `labels` (one per row),
/// averaged over the batch: −mean log softmax(logits)[label].
public func crossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
    -logits.logSoftmax().gathering(atLastAxis: labels).mean()
}
