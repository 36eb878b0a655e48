#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff

/// Updates parameters from their accumulated gradients, with PyTorch's semantics and
/// defaults. State (moments, momentum buffers) lives in the optimiser, one entry per
/// parameter, in the order the parameters were given.
public protocol Optimizer: AnyObject {
    /// The tensors this optimiser updates.
    var parameters: [Tensor] { get }
    /// The step size; schedules change it between steps.
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
    /// The optimiser's internal state (moments, momentum buffers) as live tensors named
    /// `"<kind>.<parameter index>"`: reading them saves the state, assigning into them
    /// restores it (resuming training).
    var namedState: [(name: String, tensor: Tensor)] { get }
    /// Steps taken so far (restored with the state: Adam's bias correction depends on it).
    var stepCount: Int { get set }
}

extension Optimizer {
    /// Forgets every parameter's gradient (call before the next backward pass).
    public func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }
}

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
/// L2 weight decay, as `torch.optim.SGD`:
/// g ← ∇ + λθ; b ← μb + (1 − τ)g (b = g on the first step); g ← g + μb (Nesterov) or b;
/// θ ← θ − ηg.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let isNesterov: Bool
    public var stepCount = 0
    /// Momentum buffers (empty without momentum); meaningful once `stepCount > 0`.
    private let buffers: [Tensor]

    public init(
        parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false
    ) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: negative hyper-parameter")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.isNesterov = nesterov
        buffers = momentum > 0 ? parameters.map { Tensor.zeros($0.shape) } : []
    }

    public var namedState: [(name: String, tensor: Tensor)] {
        buffers.enumerated().map { ("momentum.\($0.offset)", $0.element) }
    }

    public func step() {
        let isFirstStep = stepCount == 0
        stepCount += 1
        for (index, p) in parameters.enumerated() {
            guard let grad = p.gradientStorage else { continue }
            let theta = p.storage, n = p.count
            let lr = learningRate, mu = momentum, wd = weightDecay, damp = 1 - dampening
            if mu == 0 {
                for i in 0..<n { theta[i] -= lr * (grad[i] + wd * theta[i]) }
                continue
            }
            let b = buffers[index].storage
            if !isFirstStep {
                for i in 0..<n {
                    let g = grad[i] + wd * theta[i]
                    b[i] = mu * b[i] + damp * g
                    theta[i] -= lr * (isNesterov ? g + mu * b[i] : b[i])
                }
            } else {
                // PyTorch starts the buffer at the first gradient, undamped.
                for i in 0..<n {
                    let g = grad[i] + wd * theta[i]
                    b[i] = g
                    theta[i] -= lr * (isNesterov ? g + mu * g : g)
                }
            }
        }
    }
}

/// Adam with bias correction, as `torch.optim.Adam` (L2 weight decay added to the
/// gradient): m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
///
/// With `decoupledWeightDecay` it is AdamW (Loshchilov & Hutter, 2019), as
/// `torch.optim.AdamW`: the decay shrinks the weights, θ ← θ·(1 − ηλ), before the Adam
/// step, instead of entering the gradient and so the moments (`Adam.adamW(...)` builds it
/// with PyTorch's defaults).
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Whether `weightDecay` shrinks the weights directly (AdamW) rather than adding λθ to
    /// the gradient (Adam's L2 penalty).
    public let decoupledWeightDecay: Bool
    /// Steps taken so far (t).
    public var stepCount = 0
    private let firstMoments: [Tensor]
    private let secondMoments: [Tensor]
    /// The parameters' elements in chunks, for the update on the worker pool.
    private let chunks: ElementChunks

    public init(
        parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) {
        precondition(learningRate >= 0 && epsilon >= 0 && weightDecay >= 0, "Adam: negative hyper-parameter")
        self.decoupledWeightDecay = decoupledWeightDecay
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoments = parameters.map { Tensor.zeros($0.shape) }
        secondMoments = parameters.map { Tensor.zeros($0.shape) }
        chunks = ElementChunks(parameters)
    }

    /// AdamW with `torch.optim.AdamW`'s defaults (weight decay 0.01).
    public static func adamW(
        parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public var namedState: [(name: String, tensor: Tensor)] {
        firstMoments.enumerated().map { ("m.\($0.offset)", $0.element) }
            + secondMoments.enumerated().map { ("v.\($0.offset)", $0.element) }
    }

    public func step() {
        stepCount += 1
        // Bias corrections in Float64, as PyTorch computes them in Python floats.
        let t = Double(stepCount)
        let correction1 = 1 - pow(Double(beta1), t), correction2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / correction1)
        let correction2Root = Float(correction2.squareRoot())
        // AdamW's shrink factor 1 − ηλ (in Float64 first, as PyTorch forms it from Python
        // floats); Adam adds λθ to the gradient instead.
        let shrink = decoupledWeightDecay ? Float(1 - Double(learningRate) * Double(weightDecay)) : 1
        let gradientDecay = decoupledWeightDecay ? 0 : weightDecay
        // Element-wise, so chunks spread over the worker pool give the same bits.
        parallelForEach(chunks.count) { c in
            let (index, range) = chunks[c]
            let p = parameters[index]
            guard let grad = p.gradientStorage else { return }
            let offset = range.lowerBound
            Self.update(p.storage + offset, grad + offset, firstMoments[index].storage + offset,
                        secondMoments[index].storage + offset, count: range.count,
                        beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: gradientDecay, shrink: shrink,
                        stepSize: stepSize, inverseCorrection2Root: 1 / correction2Root)
        }
    }

    /// One Adam update of `count` elements. A plain loop that LLVM vectorises (with
    /// `FastMath.squareRoot`; `SIMD8.squareRoot()` went lane by lane through `sqrtf`).
    @inline(__always)
    private static func update(
        _ theta: UnsafeMutablePointer<Float>, _ grad: UnsafeMutablePointer<Float>,
        _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, count: Int,
        beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, shrink: Float, stepSize: Float,
        inverseCorrection2Root: Float
    ) {
        let c1 = 1 - beta1, c2 = 1 - beta2
        for i in 0..<count {
            let t = theta[i] * shrink  // exact when shrink is 1 (Adam)
            let g = grad[i] + weightDecay * t
            let mi = beta1 * m[i] + c1 * g
            let vi = beta2 * v[i] + c2 * (g * g)
            m[i] = mi
            v[i] = vi
            theta[i] = t - stepSize * mi / (FastMath.squareRoot(vi) * inverseCorrection2Root + epsilon)
        }
    }
}

/// RMSprop as `torch.optim.RMSprop`: s ← αs + (1 − α)g²; with `centered`, ḡ ← αḡ + (1 − α)g
/// and the denominator is √(s − ḡ²) + ε, otherwise √s + ε; with momentum μ,
/// b ← μb + g/denominator and θ ← θ − ηb, otherwise θ ← θ − η g/denominator.
public final class RMSprop: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let alpha: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let momentum: Float
    public let isCentered: Bool
    public var stepCount = 0
    private let squareAverages: [Tensor]
    private let gradientAverages: [Tensor]
    private let momentumBuffers: [Tensor]

    public init(
        parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
        weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false
    ) {
        precondition(learningRate >= 0 && epsilon >= 0 && weightDecay >= 0 && momentum >= 0,
                     "RMSprop: negative hyper-parameter")
        precondition((0...1).contains(alpha), "RMSprop: alpha must be in [0, 1]")
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.isCentered = centered
        squareAverages = parameters.map { Tensor.zeros($0.shape) }
        gradientAverages = centered ? parameters.map { Tensor.zeros($0.shape) } : []
        momentumBuffers = momentum > 0 ? parameters.map { Tensor.zeros($0.shape) } : []
    }

    public var namedState: [(name: String, tensor: Tensor)] {
        squareAverages.enumerated().map { ("square_average.\($0.offset)", $0.element) }
            + gradientAverages.enumerated().map { ("gradient_average.\($0.offset)", $0.element) }
            + momentumBuffers.enumerated().map { ("momentum.\($0.offset)", $0.element) }
    }

    public func step() {
        stepCount += 1
        let a = alpha, eps = epsilon, wd = weightDecay, lr = learningRate, mu = momentum
        for (index, p) in parameters.enumerated() {
            guard let grad = p.gradientStorage else { continue }
            let theta = p.storage, s = squareAverages[index].storage
            for i in 0..<p.count {
                let g = grad[i] + wd * theta[i]
                s[i] = a * s[i] + (1 - a) * g * g
                var denominator: Float
                if isCentered {
                    let gbar = gradientAverages[index].storage
                    gbar[i] = a * gbar[i] + (1 - a) * g
                    denominator = FastMath.squareRoot(s[i] - gbar[i] * gbar[i]) + eps
                } else {
                    denominator = FastMath.squareRoot(s[i]) + eps
                }
                if mu > 0 {
                    let b = momentumBuffers[index].storage
                    b[i] = mu * b[i] + g / denominator
                    theta[i] -= lr * b[i]
                } else {
                    theta[i] -= lr * g / denominator
                }
            }
        }
    }
}

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` (coefficient maxNorm / (norm + 1e-6), applied only
/// when below 1). Returns the norm before clipping.
///
/// Each tensor's sum of squares is taken eight lanes at a time (eight partial sums, then
/// their total), which vectorises; the tensors' sums add up in Float64.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientNorm: maxNorm must be positive, got \(maxNorm)")
    var total: Double = 0
    for p in parameters {
        guard let g = p.gradientStorage else { continue }
        total += Double(sumOfSquares(g, count: p.count))
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters {
            guard let g = p.gradientStorage else { continue }
            for i in 0..<p.count { g[i] *= coefficient }
        }
    }
    return norm
}

/// Σ x², accumulated in eight lanes (element i in lane i mod 8), then the lanes summed.
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>()
    let whole = count / 8 * 8
    let raw = UnsafeRawPointer(x)
    for i in stride(from: 0, to: whole, by: 8) {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        lanes += v * v
    }
    for i in whole..<count { lanes[i - whole] += x[i] * x[i] }
    return lanes.sum()
}
