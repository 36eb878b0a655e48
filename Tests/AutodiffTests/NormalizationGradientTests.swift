import XCTest
@testable import Autodiff

/// The fused layer normalisation and row gather against finite differences and against
/// what they compute by definition.
final class NormalizationGradientTests: XCTestCase {
    func testLayerNormalizedGradients() {
        // Rows with different means and spreads; a [2, 3, 4] input checks that only the
        // last axis is normalised.
        let matrix = randomTensor([3, 5], low: -2, high: 3, seed: 301)
        assertGradientsMatchFiniteDifferences([matrix]) { $0[0].layerNormalized() }
        let cube = randomTensor([2, 3, 4], seed: 302)
        assertGradientsMatchFiniteDifferences([cube]) { $0[0].layerNormalized(epsilon: 0.1) }
        // Used twice in one graph: both shares reach the input.
        assertGradientsMatchFiniteDifferences([matrix]) { $0[0].layerNormalized() * $0[0] }
    }

    func testLayerNormalizedValues() {
        let x = Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -3, 0, 0, 7])
        let y = x.layerNormalized(epsilon: 0)
        XCTAssertEqual(y.shape, [2, 4])
        // Row 0: mean 2.5, biased variance 1.25.
        let s = Float(1.25).squareRoot()
        XCTAssertEqualElements(Array(y.scalars[0..<4]), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], accuracy: 1e-6)
        // Every row has mean 0 and biased variance 1 (ε = 0).
        for r in 0..<2 {
            let row = Array(y.scalars[(r * 4)..<(r * 4 + 4)])
            let mean = row.reduce(0, +) / 4
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(variance, 1, accuracy: 1e-5)
        }
        // Against the composite (x − mean) / √(var + ε).
        let z = randomTensor([3, 6], seed: 303)
        let mean = z.mean(alongAxis: 1, keepingDimension: true)
        let centered = z - mean
        let variance = square(centered).mean(alongAxis: 1, keepingDimension: true)
        let composite = centered / sqrt(variance + 1e-5)
        XCTAssertEqualElements(z.layerNormalized().scalars, composite.scalars, accuracy: 1e-5)
    }

    func testGatheringRowsGradientsWithRepeatedIndices() {
        let table = randomTensor([4, 3], seed: 311)
        assertGradientsMatchFiniteDifferences([table]) { $0[0].gatheringRows([2, 0, 2, 1, 2]) }
        assertGradientsMatchFiniteDifferences([table]) { $0[0].gatheringRows([3]) }
    }

    func testGatheringRowsValuesAndScatterAdd() {
        let table = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6], requiresGradient: true)
        let rows = table.gatheringRows([2, 0, 2])
        XCTAssertEqual(rows.shape, [3, 2])
        XCTAssertEqual(rows.scalars, [5, 6, 1, 2, 5, 6])
        (rows * Tensor(shape: [3, 2], scalars: [1, 10, 100, 1000, 2, 20])).sum().backward()
        // Row 0 read once, row 1 never, row 2 twice (its gradients add up).
        XCTAssertEqual(table.gradient, [100, 1000, 0, 0, 3, 30])
        XCTAssertEqual(table.gatheringRows([]).shape, [0, 2])
    }
}
