import Autodiff
import SeededRandom

/// Inverted dropout (Srivastava et al. 2014, as torch's `nn.Dropout`): in training, each
/// element is zeroed with probability `probability` and the kept ones are scaled by
/// 1/(1 − probability), so the expected output equals the input and evaluation needs no
/// rescaling. The gradient passes through the same mask.
///
/// Units are dropped only when all three hold: the layer is in training mode (the
/// default; `setTraining(false)` is evaluation), `probability > 0`, and gradients are
/// being recorded (`GradientMode.isEnabled`). Otherwise the layer returns its input.
/// Inside `withoutGradients` it is off because that is where this project acts, evaluates
/// and computes targets: an agent choosing actions, or a target network bootstrapping,
/// must see the whole network, not a random thinning of it; only the loss being
/// differentiated should be regularised.
///
/// The masks come from the layer's own seeded generator, so a run is reproducible. Each
/// replica draws from a stream of its own, numbered in the order replicas are made
/// (`SeededGenerator(seed:stream:)`), so a data-parallel update draws the same masks for
/// any thread count.
public final class Dropout: Layer {
    /// The probability of zeroing an element, in [0, 1).
    public let probability: Float
    /// The seed every stream of this layer and its replicas derives from.
    public let seed: UInt64
    /// Whether units are dropped (while gradients are recorded).
    public private(set) var isTraining = true
    /// This layer's masks.
    private var generator: SeededGenerator
    /// Hands out stream numbers, shared by the layer and all its replicas.
    private let streams: StreamCounter

    /// A dropout layer whose masks come from `seed` (stream 0).
    /// - Precondition: `probability` is in [0, 1).
    public init(probability: Float, seed: UInt64) {
        precondition((0..<1).contains(probability), "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.seed = seed
        generator = SeededGenerator(seed: seed, stream: 0)
        streams = StreamCounter()
    }

    private init(replicating original: Dropout, stream: UInt64) {
        probability = original.probability
        seed = original.seed
        isTraining = original.isTraining
        generator = SeededGenerator(seed: original.seed, stream: stream)
        streams = original.streams
    }

    /// The same layer drawing masks from the next unused stream of `seed` (1, 2, ... in
    /// the order replicas are made, counted over the layer and all its replicas).
    public func replica() -> Dropout {
        Dropout(replicating: self, stream: streams.next())
    }

    /// Training (`true`: drops units while gradients are recorded) or evaluation (`false`: identity).
    public func setTraining(_ isTraining: Bool) { self.isTraining = isTraining }

    /// `input` with a fresh random mask applied (see the type's documentation for when).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, probability > 0, GradientMode.isEnabled else { return input }
        let kept = 1 / (1 - probability)
        var mask = [Float](repeating: 0, count: input.count)
        var generator = self.generator
        for i in 0..<mask.count {
            if generator.uniformFloat() >= probability { mask[i] = kept }
        }
        self.generator = generator
        return input * Tensor(shape: input.shape, scalars: mask)
    }

    /// None: dropout has no parameters.
    public var namedParameters: [(name: String, tensor: Tensor)] { [] }
}

/// The next stream number for a dropout replica; shared by a layer and its replicas, so
/// no two of them draw the same stream.
private final class StreamCounter {
    /// The number the next replica gets (the original layer has stream 0).
    private var nextStream: UInt64 = 1

    func next() -> UInt64 {
        defer { nextStream += 1 }
        return nextStream
    }
}
