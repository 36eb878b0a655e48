import Autodiff
import Foundation
import SeededRandom
import XCTest
@testable import NeuralNet

/// The LSTM and GRU layers over a sequence with episode resets, against PyTorch
/// (Reference/recurrent.json, made by make_recurrent_reference.py): outputs, final states
/// and the gradients of L = Σ outputs ⊙ R + Σ h_T ⊙ Rh (+ Σ c_T ⊙ Rc) with respect to the
/// inputs, the initial state and every parameter, through time.
final class RecurrentReferenceTests: XCTestCase {
    /// The layer's parameters replaced by the reference's, in the order `namedParameters` lists them.
    private func load(_ layer: some Layer, from reference: [String: Any]) {
        for (name, tensor) in layer.namedParameters { tensor.assign(referenceTensor(reference[name]).scalars) }
    }

    private func resets(_ reference: [String: Any]) -> [Bool] {
        referenceTensor(reference["resets"]).scalars.map { $0 != 0 }
    }

    // Six steps of float32 arithmetic on values near 1: a few ulps each, so 2e-6 leaves a
    // margin of several times the rounding the reference (float64, rounded once) lacks.
    private let tolerance: Float = 2e-6

    func testLSTMSequenceWithResetsMatchesPyTorch() throws {
        let reference = try loadReference("recurrent.json")["lstm"] as! [String: Any]
        let (inputSize, hidden) = ((reference["input_size"] as! NSNumber).intValue, (reference["hidden_size"] as! NSNumber).intValue)
        var generator = SeededGenerator(seed: 1)
        let lstm = LSTM(inputSize: inputSize, hiddenSize: hidden, generator: &generator)
        load(lstm, from: reference)
        let inputs = referenceTensor(reference["inputs"], requiresGradient: true)
        let h0 = referenceTensor(reference["h0"], requiresGradient: true)
        let c0 = referenceTensor(reference["c0"], requiresGradient: true)
        let (outputs, states) = lstm.sequence(inputs, initialState: Tensor.concatenate([h0, c0], alongAxis: 1),
                                              resets: resets(reference))
        XCTAssertClose(outputs.scalars, referenceTensor(reference["outputs"]).scalars, absolute: tolerance, relative: tolerance)
        let steps = states.shape[0], batch = states.shape[1]
        let last = states.sliced(alongAxis: 0, (steps - 1)..<steps).reshaped(to: [batch, 2 * hidden])
        let hT = last.sliced(alongAxis: 1, 0..<hidden), cT = last.sliced(alongAxis: 1, hidden..<(2 * hidden))
        XCTAssertClose(hT.scalars, referenceTensor(reference["h_final"]).scalars, absolute: tolerance, relative: tolerance)
        XCTAssertClose(cT.scalars, referenceTensor(reference["c_final"]).scalars, absolute: tolerance, relative: tolerance)

        let loss = (outputs * referenceTensor(reference["R"])).sum() + (hT * referenceTensor(reference["Rh"])).sum()
            + (cT * referenceTensor(reference["Rc"])).sum()
        XCTAssertEqual(loss.scalar, Float((reference["loss"] as! NSNumber).doubleValue), accuracy: 1e-5)
        loss.backward()
        for (tensor, key) in [(inputs, "grad_inputs"), (h0, "grad_h0"), (c0, "grad_c0"), (lstm.inputWeight, "grad_input_weight"),
                              (lstm.hiddenWeight, "grad_hidden_weight"), (lstm.bias, "grad_bias")] {
            XCTAssertClose(tensor.gradient!, referenceTensor(reference[key]).scalars, absolute: 1e-5, relative: 1e-5, key)
        }
    }

    func testGRUSequenceWithResetsMatchesPyTorch() throws {
        let reference = try loadReference("recurrent.json")["gru"] as! [String: Any]
        let (inputSize, hidden) = ((reference["input_size"] as! NSNumber).intValue, (reference["hidden_size"] as! NSNumber).intValue)
        var generator = SeededGenerator(seed: 1)
        let gru = GRU(inputSize: inputSize, hiddenSize: hidden, generator: &generator)
        load(gru, from: reference)
        let inputs = referenceTensor(reference["inputs"], requiresGradient: true)
        let h0 = referenceTensor(reference["h0"], requiresGradient: true)
        let (outputs, states) = gru.sequence(inputs, initialState: h0, resets: resets(reference))
        XCTAssertClose(outputs.scalars, referenceTensor(reference["outputs"]).scalars, absolute: tolerance, relative: tolerance)
        let steps = states.shape[0], batch = states.shape[1]
        let hT = states.sliced(alongAxis: 0, (steps - 1)..<steps).reshaped(to: [batch, hidden])
        XCTAssertClose(hT.scalars, referenceTensor(reference["h_final"]).scalars, absolute: tolerance, relative: tolerance)

        let loss = (outputs * referenceTensor(reference["R"])).sum() + (hT * referenceTensor(reference["Rh"])).sum()
        XCTAssertEqual(loss.scalar, Float((reference["loss"] as! NSNumber).doubleValue), accuracy: 1e-5)
        loss.backward()
        for (tensor, key) in [(inputs, "grad_inputs"), (h0, "grad_h0"), (gru.inputWeight, "grad_input_weight"),
                              (gru.hiddenWeight, "grad_hidden_weight"), (gru.inputBias, "grad_input_bias"),
                              (gru.hiddenBias, "grad_hidden_bias")] {
            XCTAssertClose(tensor.gradient!, referenceTensor(reference[key]).scalars, absolute: 1e-5, relative: 1e-5, key)
        }
    }

    func testResetRowsForgetTheInitialState() {
        // A reset at step 0 makes the initial state irrelevant: two different initial
        // states give the same outputs for that row and no gradient reaches them.
        var generator = SeededGenerator(seed: 3)
        let lstm = LSTM(inputSize: 2, hiddenSize: 3, generator: &generator)
        let inputs = Tensor.uniform([4, 2, 2], low: -1, high: 1, generator: &generator)
        let resets = [true, false, false, false, false, false, false, false]
        let a = Tensor.uniform([2, 6], low: -1, high: 1, generator: &generator, requiresGradient: true)
        let b = Tensor.uniform([2, 6], low: -1, high: 1, generator: &generator)
        let outputsA = lstm.sequence(inputs, initialState: a, resets: resets).outputs
        let outputsB = lstm.sequence(inputs, initialState: b, resets: resets).outputs
        let valuesA = outputsA.scalars, valuesB = outputsB.scalars
        for t in 0..<4 {
            let row0 = (t * 6)..<(t * 6 + 3), row1 = (t * 6 + 3)..<(t * 6 + 6)
            XCTAssertEqual(Array(valuesA[row0]), Array(valuesB[row0]))
            XCTAssertNotEqual(Array(valuesA[row1]), Array(valuesB[row1]))
        }
        outputsA.sum().backward()
        XCTAssertEqual(Array(a.gradient![0..<6]), [0, 0, 0, 0, 0, 0], "row 0 was reset before its first step")
        XCTAssertTrue(a.gradient![6..<12].contains { $0 != 0 })
    }
}
