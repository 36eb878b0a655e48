import XCTest
@testable import Autodiff

final class StructuralGradientTests: XCTestCase {
    func testReductions() {
        let x = randomTensor([3, 4, 2], seed: 11)
        // Distinct values 0.1 apart (a fixed permutation) so no maximum changes within ±h.
        let distinct = Tensor(shape: [3, 4, 2], scalars: (0..<24).map { Float(($0 * 7) % 24) * 0.1 - 1 },
                              requiresGradient: true)
        assertGradientsMatchFiniteDifferences([x]) { $0[0].sum() }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            assertGradientsMatchFiniteDifferences([x]) { $0[0].sum(alongAxis: axis) }
            assertGradientsMatchFiniteDifferences([x]) { $0[0].mean(alongAxis: axis, keepingDimension: true) }
            assertGradientsMatchFiniteDifferences([distinct]) { $0[0].max(alongAxis: axis) }
        }
        assertGradientsMatchFiniteDifferences([distinct]) { $0[0].max() }
    }

    func testReductionValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 7, 3, -4, 5, 6])
        XCTAssertEqual(x.sum().scalar, 18)
        XCTAssertEqual(x.mean().scalar, 3)
        XCTAssertEqual(x.sum(alongAxis: 0).scalars, [-3, 12, 9])
        XCTAssertEqual(x.sum(alongAxis: 1, keepingDimension: true).shape, [2, 1])
        XCTAssertEqual(x.sum(alongAxis: 1).scalars, [11, 7])
        XCTAssertEqualElements(x.mean(alongAxis: 1).scalars, [11.0 / 3, 7.0 / 3], accuracy: 3e-7)
        XCTAssertEqual(x.max(alongAxis: 0).scalars, [1, 7, 6])
        XCTAssertEqual(x.max(alongAxis: 1).scalars, [7, 6])
        XCTAssertEqual(x.max().scalar, 7)
        XCTAssertEqual(x.argmaxAlongLastAxis(), [1, 2])
        // The gradient of max goes to the first of tied maxima only.
        let tied = Tensor(shape: [3], scalars: [2, 2, 1], requiresGradient: true)
        tied.max().backward()
        XCTAssertEqual(tied.gradient, [1, 0, 0])
    }

    func testMatmulInAllFourTranspositions() {
        let m = 3, k = 4, n = 2
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [k, m] : [m, k], seed: 21)
            let b = randomTensor(tb ? [n, k] : [k, n], seed: 22)
            assertGradientsMatchFiniteDifferences([a, b]) { Tensor.matmul($0[0], $0[1], transposingA: ta, transposingB: tb) }
            // Forward against the definition.
            let c = Tensor.matmul(a, b, transposingA: ta, transposingB: tb)
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    for p in 0..<k {
                        let av = ta ? a.storage[p * m + i] : a.storage[i * k + p]
                        let bv = tb ? b.storage[j * k + p] : b.storage[p * n + j]
                        expected[i * n + j] += av * bv
                    }
                }
            }
            XCTAssertEqual(c.shape, [m, n])
            XCTAssertEqualElements(c.scalars, expected, accuracy: 1e-6)
        }
    }

    func testLinearIsMatmulPlusBias() {
        let x = randomTensor([5, 3], seed: 31), w = randomTensor([3, 4], seed: 32), b = randomTensor([4], seed: 33)
        assertGradientsMatchFiniteDifferences([x, w, b]) { Tensor.linear($0[0], $0[1], $0[2]) }
        XCTAssertEqualElements(Tensor.linear(x, w, b).scalars, (Tensor.matmul(x, w) + b).scalars, accuracy: 1e-6)
    }

    func testShapeOps() {
        let x = randomTensor([2, 3, 2], seed: 41)
        assertGradientsMatchFiniteDifferences([x]) { $0[0].reshaped(to: [3, -1]) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].flattened() }
        let m = randomTensor([3, 5], seed: 42)
        assertGradientsMatchFiniteDifferences([m]) { $0[0].transposed() }
        let y = randomTensor([2, 1, 2], seed: 43)
        assertGradientsMatchFiniteDifferences([x, y]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) }
        assertGradientsMatchFiniteDifferences([x]) { Tensor.concatenate([$0[0], $0[0]], alongAxis: 0) }
        assertGradientsMatchFiniteDifferences([m]) { $0[0].gathering(atLastAxis: [4, 0, 2]) }

        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a.transposed().scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(a.reshaped(to: [3, 2]).shape, [3, 2])
        XCTAssertEqual(Tensor.concatenate([a, Tensor(shape: [2, 1], scalars: [9, 8])], alongAxis: 1).scalars,
                       [1, 2, 3, 9, 4, 5, 6, 8])
        XCTAssertEqual(Tensor.concatenate([a, a], alongAxis: 0).shape, [4, 3])
        XCTAssertEqual(a.gathering(atLastAxis: [2, 0]).scalars, [3, 4])
    }

    func testLogSoftmaxAndSoftmax() {
        let x = randomTensor([3, 5], low: -3, high: 3, seed: 51)
        assertGradientsMatchFiniteDifferences([x]) { $0[0].logSoftmax() }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].softmax() }
        // Rows of softmax sum to one.
        let p = x.softmax()
        for r in 0..<3 { XCTAssertEqual((0..<5).reduce(Float(0)) { $0 + p.storage[r * 5 + $1] }, 1, accuracy: 1e-6) }
    }

    func testSoftmaxIsStableForHugeLogits() {
        let x = Tensor(shape: [2, 3], scalars: [1000, 0, -1000, -1000, -1000, -999], requiresGradient: true)
        let logP = x.logSoftmax()
        XCTAssertTrue(logP.scalars.allSatisfy(\.isFinite))
        XCTAssertEqualElements(logP.scalars, [0, -1000, -2000, -1.5514448, -1.5514448, -0.5514448], accuracy: 1e-4)
        let p = x.softmax()
        XCTAssertEqualElements(p.scalars, [1, 0, 0, 0.21194156, 0.21194156, 0.57611688], accuracy: 1e-6)
        logP.gathering(atLastAxis: [1, 2]).sum().backward()
        // d log p_a / d x = onehot(a) - softmax.
        XCTAssertEqualElements(x.gradient!, [-1, 1, 0, -0.21194156, -0.21194156, 0.42388312], accuracy: 1e-6)
    }

    func testConvolutionValidAndSame() {
        for padding in [Padding.valid, .same] {
            let input = randomTensor([2, 4, 5, 2], seed: 61)
            let filter = randomTensor([3, 3, 2, 3], seed: 62)
            assertGradientsMatchFiniteDifferences([input, filter]) {
                Tensor.conv2D($0[0], filter: $0[1], padding: padding)
            }
            // Forward against the definition (cross-correlation with zero padding).
            let y = Tensor.conv2D(input, filter: filter, padding: padding)
            let pad = padding == .same ? 1 : 0
            let oh = padding == .same ? 4 : 2, ow = padding == .same ? 5 : 3
            XCTAssertEqual(y.shape, [2, oh, ow, 3])
            var expected = [Float]()
            for n in 0..<2 { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<3 {
                var s: Float = 0
                for dy in 0..<3 { for dx in 0..<3 { for c in 0..<2 {
                    let iy = oy + dy - pad, ix = ox + dx - pad
                    guard iy >= 0, iy < 4, ix >= 0, ix < 5 else { continue }
                    s += input.storage[((n * 4 + iy) * 5 + ix) * 2 + c] * filter.storage[((dy * 3 + dx) * 2 + c) * 3 + o]
                } } }
                expected.append(s)
            } } } }
            XCTAssertEqualElements(y.scalars, expected, accuracy: 1e-5)
        }
    }
}
