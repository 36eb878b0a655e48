import Foundation
import SeededRandom
import XCTest
@testable import Autodiff

/// The LSTM and GRU ops' backpropagation through time against central finite differences,
/// with resets inside the sequence and at its first step.
final class RecurrentGradientTests: XCTestCase {
    // Steps 0…3 of two rows: row 1 starts an episode at step 0, row 0 at step 2.
    private let resets = [false, true, false, false, true, false, false, false]

    func testLSTMGradientsThroughTime() {
        let hidden = 2
        let inputs = randomTensor([4, 2, 4 * hidden], seed: 1)
        let weight = randomTensor([hidden, 4 * hidden], seed: 2)
        let h0 = randomTensor([2, hidden], seed: 3), c0 = randomTensor([2, hidden], seed: 4)
        assertGradientsMatchFiniteDifferences([inputs, weight, h0, c0]) { x in
            Tensor.lstm(projectedInputs: x[0], hiddenWeight: x[1], initialHidden: x[2], initialCell: x[3], resets: self.resets)
        }
        assertGradientsMatchFiniteDifferences([inputs, weight, h0, c0]) { x in
            Tensor.lstm(projectedInputs: x[0], hiddenWeight: x[1], initialHidden: x[2], initialCell: x[3])
        }
    }

    func testGRUGradientsThroughTime() {
        let hidden = 2
        let inputs = randomTensor([4, 2, 3 * hidden], seed: 5)
        let weight = randomTensor([hidden, 3 * hidden], seed: 6)
        let bias = randomTensor([3 * hidden], seed: 7)
        let h0 = randomTensor([2, hidden], seed: 8)
        assertGradientsMatchFiniteDifferences([inputs, weight, bias, h0]) { x in
            Tensor.gru(projectedInputs: x[0], hiddenWeight: x[1], hiddenBias: x[2], initialHidden: x[3], resets: self.resets)
        }
        assertGradientsMatchFiniteDifferences([inputs, weight, bias, h0]) { x in
            Tensor.gru(projectedInputs: x[0], hiddenWeight: x[1], hiddenBias: x[2], initialHidden: x[3])
        }
    }

    func testOneLSTMStepWorkedOutByHand() {
        // H = 1, zero state, gates' pre-activations (i, f, g, o) = (0, 0, 0, 0) + 0·W:
        // i = f = o = ½, g = 0 → c' = ½·0 + ½·0 = 0, h' = 0. With g's pre-activation ln 3
        // (tanh = 0.8): c' = 0.4, h' = ½·tanh(0.4).
        let inputs = Tensor(shape: [1, 1, 4], scalars: [0, 0, Float(Foundation.log(3.0)), 0])
        let y = Tensor.lstm(projectedInputs: inputs, hiddenWeight: .zeros([1, 4]), initialHidden: .zeros([1, 1]),
                            initialCell: .zeros([1, 1]))
        XCTAssertEqual(y.scalars[1], 0.4, accuracy: 1e-6)
        XCTAssertEqual(y.scalars[0], 0.5 * Float(Foundation.tanh(0.4)), accuracy: 1e-6)
    }
}
