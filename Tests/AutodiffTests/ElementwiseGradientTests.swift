import Foundation
import XCTest
@testable import Autodiff

final class ElementwiseGradientTests: XCTestCase {
    /// The broadcasting layouts: same shape, scalar on either side, a row, a column, and
    /// a general 3-D case that needs index maps.
    let layouts: [(String, [Int], [Int])] = [
        ("same", [3, 4], [3, 4]),
        ("right scalar", [3, 4], []),
        ("left scalar", [1], [3, 4]),
        ("row", [3, 4], [4]),
        ("row on the left", [1, 4], [3, 4]),
        ("column", [3, 4], [3, 1]),
        ("general", [2, 1, 4], [3, 1]),
    ]

    func testAddSubtractMultiplyDivideWithBroadcasting() {
        for (name, sa, sb) in layouts {
            let a = randomTensor(sa, seed: 1)
            let b = randomTensor(sb, low: 0.5, high: 2, seed: 2)  // away from 0 for division
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] + $0[1] }
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] - $0[1] }
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] * $0[1] }
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] / $0[1] }
            assertGradientsMatchFiniteDifferences([b, a]) { $0[0] / $0[1].affine(scale: 0.1, shift: 3) }
            _ = name
        }
    }

    func testBroadcastForwardValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual((a + Tensor(shape: [3], scalars: [10, 20, 30])).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((a * Tensor(shape: [2, 1], scalars: [2, -1])).scalars, [2, 4, 6, -4, -5, -6])
        XCTAssertEqual((Tensor(7) - a).scalars, [6, 5, 4, 3, 2, 1])
        let c = Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]) + Tensor(shape: [3, 1], scalars: [10, 20, 30])
        XCTAssertEqual(c.shape, [2, 3, 2])
        XCTAssertEqual(c.scalars, [11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34])
    }

    func testMinimumAndMaximum() {
        for (_, sa, sb) in layouts {
            let a = randomTensorAvoiding([], sa, seed: 3)
            let b = randomTensorAvoiding([], sb, seed: 4)
            // Keep a and b apart so the winner does not switch within ±h.
            withoutGradients {
                let plan = BroadcastPlan(a.shape, b.shape, op: "test")
                plan.forEach { _, i, j in
                    if Swift.abs(a.storage[i] - b.storage[j]) < 0.05 { a.storage[i] = b.storage[j] + 0.1 }
                }
            }
            assertGradientsMatchFiniteDifferences([a, b]) { Tensor.minimum($0[0], $0[1]) }
            assertGradientsMatchFiniteDifferences([a, b]) { Tensor.maximum($0[0], $0[1]) }
        }
        let x = Tensor(shape: [3], scalars: [1, 5, -2]), y = Tensor(shape: [3], scalars: [2, 4, -2])
        XCTAssertEqual(Tensor.minimum(x, y).scalars, [1, 4, -2])
        XCTAssertEqual(Tensor.maximum(x, y).scalars, [2, 5, -2])
    }

    func testScalarAffineForms() {
        let x = randomTensor([2, 3], seed: 5)
        assertGradientsMatchFiniteDifferences([x]) { $0[0] * 3 + 1 }
        assertGradientsMatchFiniteDifferences([x]) { 2 - $0[0] / 4 }
        assertGradientsMatchFiniteDifferences([x]) { -$0[0] }
        XCTAssertEqual((2 - Tensor(shape: [2], scalars: [1, 5]) * 3).scalars, [-1, -13])
    }

    func testUnaryOps() {
        let x = randomTensor([2, 5], low: -3, high: 3, seed: 6)
        let positive = randomTensor([2, 5], low: 0.2, high: 4, seed: 7)
        assertGradientsMatchFiniteDifferences([x]) { exp($0[0]) }
        assertGradientsMatchFiniteDifferences([positive]) { log($0[0]) }
        assertGradientsMatchFiniteDifferences([positive]) { sqrt($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { square($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { tanh($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { sigmoid($0[0]) }
        let kinked = randomTensorAvoiding([0, -0.5, 0.5], [3, 4], seed: 8)
        assertGradientsMatchFiniteDifferences([kinked]) { relu($0[0]) }
        assertGradientsMatchFiniteDifferences([kinked]) { abs($0[0]) }
        assertGradientsMatchFiniteDifferences([kinked]) { clamp($0[0], min: -0.5, max: 0.5) }
    }

    func testUnaryForwardValuesAgainstTheCLibrary() {
        let values: [Float] = [-20, -3, -1, -0.01, 0, 0.03, 0.5, 1, 2.5, 7, 15]
        let x = Tensor(shape: [values.count], scalars: values)
        XCTAssertEqualElements(tanh(x).scalars, values.map { Foundation.tanh($0) }, accuracy: 2e-7)
        XCTAssertEqualElements(sigmoid(x).scalars, values.map { 1 / (1 + Foundation.exp(-$0)) }, accuracy: 2e-7)
        XCTAssertEqualElements(relu(x).scalars, values.map { Swift.max($0, 0) }, accuracy: 0)
        XCTAssertEqualElements(clamp(x, min: -1, max: 2).scalars, values.map { Swift.min(Swift.max($0, -1), 2) }, accuracy: 0)
    }

    func testFastMathAccuracyOverWideRanges() {
        // Relative error of exp within 3 ulp-ish (4e-7) over the whole finite range.
        var x: Float = -87
        while x < 88.7 {
            let expected = Foundation.exp(Double(x))
            let got = Double(FastMath.exp(x))
            XCTAssertLessThanOrEqual(Swift.abs(got - expected) / expected, 4e-7, "exp(\(x))")
            x += 0.173
        }
        XCTAssertEqual(FastMath.exp(89), .infinity)
        XCTAssertEqual(FastMath.exp(-90), 0)
        XCTAssertEqual(FastMath.exp(0), 1)
        // log: absolute error 2e-7 near 1, relative elsewhere; subnormals and the ends.
        var y: Float = 1e-30
        while y < 1e30 {
            let expected = Foundation.log(Double(y))
            XCTAssertLessThanOrEqual(Swift.abs(Double(FastMath.log(y)) - expected),
                                     2e-7 * Swift.max(1, Swift.abs(expected)), "log(\(y))")
            y *= 1.37
        }
        XCTAssertEqual(FastMath.log(1), 0)
        XCTAssertEqual(FastMath.log(0), -.infinity)
        XCTAssertTrue(FastMath.log(-1).isNaN)
        XCTAssertEqual(FastMath.log(Float.leastNonzeroMagnitude), Float(Foundation.log(Double(Float.leastNonzeroMagnitude))), accuracy: 1e-4)
        var t: Float = -10
        while t < 10 {
            XCTAssertEqual(FastMath.tanh(t), Float(Foundation.tanh(Double(t))), accuracy: 3e-7, "tanh(\(t))")
            t += 0.0137
        }
    }
}
