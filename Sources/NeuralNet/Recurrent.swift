import Autodiff
import SeededRandom

/// The kinds of recurrent cell.
public enum RecurrentCellKind: String, Sendable, Codable, CaseIterable {
    case lstm, gru
}

/// A layer with memory: it reads a sequence step by step, carrying a state of
/// `stateWidth` floats per row from one step to the next.
///
/// States are one tensor [B, stateWidth] per batch (for the LSTM h then c, for the GRU h),
/// so a caller can store and restore them as plain rows of floats.
public protocol RecurrentLayer: Layer {
    /// Floats per input row.
    var inputSize: Int { get }
    /// Floats per output row (h).
    var hiddenSize: Int { get }
    /// Floats of state per row.
    var stateWidth: Int { get }

    /// Runs over `inputs` [T, B, inputSize] (time-major) from `initialState` [B, stateWidth],
    /// zeroing the state entering step t of row b where `resets[t·B + b]` is set (an episode
    /// began there; nothing crosses the boundary, forward or backward).
    /// - Returns: the outputs h [T, B, hiddenSize] and the state after every step
    ///   [T, B, stateWidth] (the last step's rows are the state to carry on with).
    func sequence(_ inputs: Tensor, initialState: Tensor, resets: [Bool]?) -> (outputs: Tensor, states: Tensor)
}

extension RecurrentLayer {
    /// A zero state for `batch` rows.
    public func zeroState(batch: Int) -> Tensor { .zeros([batch, stateWidth]) }

    /// The layer as a function of a sequence alone, from a zero state with no resets:
    /// [T, B, inputSize] → [T, B, hiddenSize].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard input.rank == 3 else { shapeFailure(ShapeError("a recurrent layer reads [T, B, features], got \(input.shape)")) }
        return sequence(input, initialState: zeroState(batch: input.shape[1]), resets: nil).outputs
    }

    /// The inputs' projections x·W + b for every step, [T, B, width], by one product over
    /// all T·B rows.
    fileprivate func project(_ inputs: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        guard inputs.rank == 3, inputs.shape[2] == inputSize else {
            shapeFailure(ShapeError("\(Self.self) reads [T, B, \(inputSize)], got \(inputs.shape)"))
        }
        let (steps, batch) = (inputs.shape[0], inputs.shape[1])
        return Tensor.linear(inputs.reshaped(to: [steps * batch, inputSize]), weight, bias)
            .reshaped(to: [steps, batch, weight.shape[1]])
    }
}

/// The initial weights of a recurrent cell.
public enum RecurrentInitializer: Sendable, Equatable {
    /// PyTorch's default for `nn.LSTM` and `nn.GRU`: every weight and bias U(−k, k), k = 1/√H.
    case pyTorch
    /// Orthogonal weights with gain 1 and zero biases (CleanRL's `ppo_atari_lstm.py`), except
    /// the LSTM's forget gate, whose bias starts at 1 (Jozefowicz et al., 2015): with 0 the
    /// gate starts near ½ and a cue fades by half each step (to 1/2048 over eleven steps,
    /// too little for its gradient to teach the cell to keep it); with 1, near 0.73.
    case orthogonal
}

/// A long short-term memory layer (Hochreiter & Schmidhuber, 1997) in PyTorch's form: gate
/// order i, f, g, o; one bias, which is PyTorch's `bias_ih + bias_hh`.
public final class LSTM: RecurrentLayer {
    /// W_input, [inputSize, 4H].
    public let inputWeight: Tensor
    /// W_h, [H, 4H].
    public let hiddenWeight: Tensor
    /// [4H].
    public let bias: Tensor

    public init(inputSize: Int, hiddenSize: Int, initializer: RecurrentInitializer = .pyTorch,
                generator: inout SeededGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "LSTM needs positive sizes, got \(inputSize)→\(hiddenSize)")
        (inputWeight, hiddenWeight, bias) = makeRecurrentParameters(
            inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, initializer: initializer, generator: &generator)
    }

    private init(inputWeight: Tensor, hiddenWeight: Tensor, bias: Tensor) {
        (self.inputWeight, self.hiddenWeight, self.bias) = (inputWeight, hiddenWeight, bias)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { hiddenWeight.shape[0] }
    public var stateWidth: Int { 2 * hiddenSize }

    public func replica() -> LSTM {
        LSTM(inputWeight: inputWeight.replica(), hiddenWeight: hiddenWeight.replica(), bias: bias.replica())
    }

    public func constantReplica() -> LSTM {
        LSTM(inputWeight: inputWeight.constantView(), hiddenWeight: hiddenWeight.constantView(),
             bias: bias.constantView())
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("input_weight", inputWeight), ("hidden_weight", hiddenWeight), ("bias", bias)]
    }

    public func sequence(_ inputs: Tensor, initialState: Tensor, resets: [Bool]?) -> (outputs: Tensor, states: Tensor) {
        let hidden = hiddenSize
        guard initialState.shape == [inputs.shape.count == 3 ? inputs.shape[1] : -1, 2 * hidden] else {
            shapeFailure(ShapeError("LSTM: initial state \(initialState.shape) does not fit inputs \(inputs.shape): "
                + "expected [B, \(2 * hidden)]"))
        }
        let states = Tensor.lstm(
            projectedInputs: project(inputs, inputWeight, bias), hiddenWeight: hiddenWeight,
            initialHidden: initialState.sliced(alongAxis: 1, 0..<hidden),
            initialCell: initialState.sliced(alongAxis: 1, hidden..<(2 * hidden)), resets: resets)
        return (states.sliced(alongAxis: 2, 0..<hidden), states)
    }
}

/// A gated recurrent unit layer (Cho et al., 2014) in PyTorch's form: gate order r, z, n,
/// with the recurrent bias inside the reset gate's product.
public final class GRU: RecurrentLayer {
    /// W_input, [inputSize, 3H].
    public let inputWeight: Tensor
    /// W_h, [H, 3H].
    public let hiddenWeight: Tensor
    /// The input bias, [3H].
    public let inputBias: Tensor
    /// The recurrent bias, [3H].
    public let hiddenBias: Tensor

    public init(inputSize: Int, hiddenSize: Int, initializer: RecurrentInitializer = .pyTorch,
                generator: inout SeededGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "GRU needs positive sizes, got \(inputSize)→\(hiddenSize)")
        (inputWeight, hiddenWeight, inputBias) = makeRecurrentParameters(
            inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, initializer: initializer, generator: &generator)
        hiddenBias = initializer == .pyTorch
            ? Tensor.uniform([3 * hiddenSize], low: -1 / Float(hiddenSize).squareRoot(),
                             high: 1 / Float(hiddenSize).squareRoot(), generator: &generator, requiresGradient: true)
            : .zeros([3 * hiddenSize], requiresGradient: true)
    }

    private init(inputWeight: Tensor, hiddenWeight: Tensor, inputBias: Tensor, hiddenBias: Tensor) {
        (self.inputWeight, self.hiddenWeight, self.inputBias, self.hiddenBias) = (inputWeight, hiddenWeight, inputBias, hiddenBias)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { hiddenWeight.shape[0] }
    public var stateWidth: Int { hiddenSize }

    public func replica() -> GRU {
        GRU(inputWeight: inputWeight.replica(), hiddenWeight: hiddenWeight.replica(), inputBias: inputBias.replica(),
            hiddenBias: hiddenBias.replica())
    }

    public func constantReplica() -> GRU {
        GRU(inputWeight: inputWeight.constantView(), hiddenWeight: hiddenWeight.constantView(),
            inputBias: inputBias.constantView(), hiddenBias: hiddenBias.constantView())
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("input_weight", inputWeight), ("hidden_weight", hiddenWeight), ("input_bias", inputBias),
         ("hidden_bias", hiddenBias)]
    }

    public func sequence(_ inputs: Tensor, initialState: Tensor, resets: [Bool]?) -> (outputs: Tensor, states: Tensor) {
        guard initialState.shape == [inputs.shape.count == 3 ? inputs.shape[1] : -1, hiddenSize] else {
            shapeFailure(ShapeError("GRU: initial state \(initialState.shape) does not fit inputs \(inputs.shape): "
                + "expected [B, \(hiddenSize)]"))
        }
        let outputs = Tensor.gru(projectedInputs: project(inputs, inputWeight, inputBias), hiddenWeight: hiddenWeight,
                                 hiddenBias: hiddenBias, initialHidden: initialState, resets: resets)
        return (outputs, outputs)
    }
}

/// A recurrent layer of `kind`.
public func makeRecurrentLayer(
    _ kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, initializer: RecurrentInitializer = .pyTorch,
    generator: inout SeededGenerator
) -> any RecurrentLayer {
    switch kind {
    case .lstm: LSTM(inputSize: inputSize, hiddenSize: hiddenSize, initializer: initializer, generator: &generator)
    case .gru: GRU(inputSize: inputSize, hiddenSize: hiddenSize, initializer: initializer, generator: &generator)
    }
}

/// The input weight [inputSize, gates·H], recurrent weight [H, gates·H] and bias [gates·H]
/// of a cell.
private func makeRecurrentParameters(
    inputSize: Int, hiddenSize: Int, gates: Int, initializer: RecurrentInitializer, generator: inout SeededGenerator
) -> (Tensor, Tensor, Tensor) {
    let width = gates * hiddenSize
    switch initializer {
    case .pyTorch:
        let k = 1 / Float(hiddenSize).squareRoot()
        return (.uniform([inputSize, width], low: -k, high: k, generator: &generator, requiresGradient: true),
                .uniform([hiddenSize, width], low: -k, high: k, generator: &generator, requiresGradient: true),
                .uniform([width], low: -k, high: k, generator: &generator, requiresGradient: true))
    case .orthogonal:
        let orthogonal = Initializer.orthogonal(gain: 1)
        let bias = Tensor.zeros([width], requiresGradient: true)
        if gates == 4 { (bias.storage + hiddenSize).update(repeating: 1, count: hiddenSize) }  // i, f, g, o: f
        return (orthogonal.make(shape: [inputSize, width], fanIn: inputSize, fanOut: width, generator: &generator),
                orthogonal.make(shape: [hiddenSize, width], fanIn: hiddenSize, fanOut: width, generator: &generator),
                bias)
    }
}
