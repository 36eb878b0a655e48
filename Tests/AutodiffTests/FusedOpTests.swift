import SeededRandom
import XCTest
@testable import Autodiff

/// The fused ops added for speed, against finite differences and against the composites
/// they replace; the storage pool; the vectorisable square root and tanh.
final class FusedOpTests: XCTestCase {
    func testConvolutionWithBias() {
        for padding in [Padding.valid, .same] {
            let input = randomTensor([2, 4, 5, 2], seed: 71)
            let filter = randomTensor([3, 3, 2, 3], seed: 72)
            let bias = randomTensor([3], seed: 73)
            assertGradientsMatchFiniteDifferences([input, filter, bias]) {
                Tensor.conv2D($0[0], filter: $0[1], bias: $0[2], padding: padding)
            }
            let fused = Tensor.conv2D(input, filter: filter, bias: bias, padding: padding)
            let composite = Tensor.conv2D(input, filter: filter, padding: padding) + bias
            XCTAssertEqual(fused.shape, composite.shape)
            XCTAssertEqualElements(fused.scalars, composite.scalars, accuracy: 1e-6)
        }
    }

    func testMeanSquaredDifferenceEqualsTheComposite() {
        let a = randomTensor([4, 3], seed: 81), b = randomTensor([4, 3], seed: 82)
        assertGradientsMatchFiniteDifferences([a, b]) { Tensor.meanSquaredDifference($0[0], $0[1]) }
        // Value and gradients element for element as square(a - b).mean().
        for t in [a, b] { t.zeroGradient() }
        let fused = Tensor.meanSquaredDifference(a, b)
        fused.backward()
        let (ga, gb) = (a.gradient!, b.gradient!)
        for t in [a, b] { t.zeroGradient() }
        let composite = square(a - b).mean()
        composite.backward()
        XCTAssertEqual(fused.scalar, composite.scalar)
        XCTAssertEqual(ga, a.gradient!)
        XCTAssertEqual(gb, b.gradient!)
        XCTAssertEqual(Tensor.meanSquaredDifference(Tensor(shape: [2], scalars: [1, 2]),
                                                    Tensor(shape: [2], scalars: [3, 5])).scalar, 6.5)
    }

    /// The first gradient share is written into a fresh buffer, later ones are added: a
    /// tensor used by several ops must still receive every contribution.
    func testSharesOfATensorUsedTwiceAddUp() {
        let x = randomTensor([3, 3], seed: 91)
        assertGradientsMatchFiniteDifferences([x]) { tanh($0[0]) * square($0[0]) }
        assertGradientsMatchFiniteDifferences([x]) { Tensor.matmul($0[0], $0[0], transposingB: true) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].reshaped(to: [9]).sum() + $0[0].mean() * 3 }
        let w = randomTensor([3, 2], seed: 92), b = randomTensor([2], seed: 93)
        assertGradientsMatchFiniteDifferences([x, w, b]) {
            Tensor.meanSquaredDifference(Tensor.linear($0[0], $0[1], $0[2]), Tensor.linear($0[0], $0[1], $0[2]) * 0.5)
        }
    }

    /// Products with one or two columns go through sgemv: forward against the definition,
    /// gradients (including accumulation into an existing gradient) against finite
    /// differences, for every transposition.
    func testNarrowProducts() {
        for n in [1, 2] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let m = 5, k = 3
                let a = randomTensor(ta ? [k, m] : [m, k], seed: 101), b = randomTensor(tb ? [n, k] : [k, n], seed: 102)
                assertGradientsMatchFiniteDifferences([a, b]) {
                    Tensor.matmul($0[0], $0[1], transposingA: ta, transposingB: tb) * 2
                        + Tensor.matmul($0[0], $0[1], transposingA: ta, transposingB: tb)
                }
                let c = Tensor.matmul(a, b, transposingA: ta, transposingB: tb)
                var expected = [Float](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        for p in 0..<k {
                            expected[i * n + j] += (ta ? a.storage[p * m + i] : a.storage[i * k + p])
                                * (tb ? b.storage[j * k + p] : b.storage[p * n + j])
                        }
                    }
                }
                XCTAssertEqualElements(c.scalars, expected, accuracy: 1e-6)
            }
        }
        let x = randomTensor([6, 4], seed: 103), w = randomTensor([4, 2], seed: 104), bias = randomTensor([2], seed: 105)
        assertGradientsMatchFiniteDifferences([x, w, bias]) { Tensor.linear($0[0], $0[1], $0[2]) }
    }

    func testSquareRootIsCorrectlyRounded() {
        var values: [Float] = [0, -0, 1, 2, 0.5, 1e-30, Float.leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity]
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<1000 { values.append(generator.uniformFloat(0, 1000)) }
        for v in values {
            XCTAssertEqual(FastMath.squareRoot(v).bitPattern, v.squareRoot().bitPattern, "sqrt(\(v))")
        }
        XCTAssertTrue(FastMath.squareRoot(-1).isNaN)
        let x = Tensor(shape: [4], scalars: [0, 1, 4, 2])
        XCTAssertEqual(sqrt(x).scalars, [0, 1, 2, Float(2).squareRoot()])
    }

    func testTanhIsOddAndSaturates() {
        var t: Float = 0
        while t < 12 {
            XCTAssertEqual(FastMath.tanh(-t), -FastMath.tanh(t), "tanh(-\(t))")
            t += 0.0173
        }
        XCTAssertEqual(FastMath.tanh(9.6), 1)
        XCTAssertEqual(FastMath.tanh(-40), -1)
        XCTAssertEqual(FastMath.tanh(.infinity), 1)
        XCTAssertEqual(FastMath.tanh(0), 0)
        XCTAssertEqual(FastMath.tanh(1e-20), 1e-20)
        XCTAssertTrue(FastMath.tanh(.nan).isNaN)
    }

    func testStoragePoolSizeClassesAndReuse() {
        var lastIndex = -1, lastCapacity = 0
        for count in StoragePool.minimumPooledCount...(StoragePool.minimumPooledCount * 5) where count % 97 == 0 {
            let (index, capacity) = StoragePool.sizeClass(count)
            XCTAssertGreaterThanOrEqual(capacity, count)
            XCTAssertLessThanOrEqual(Double(capacity), Double(count) * 1.25)
            XCTAssertGreaterThanOrEqual(index, lastIndex)
            if index == lastIndex { XCTAssertEqual(capacity, lastCapacity) }
            lastIndex = index; lastCapacity = capacity
        }
        // A freed large buffer is handed out again for a request of its class.
        let count = StoragePool.minimumPooledCount * 3
        let first = StoragePool.allocate(count)
        first.update(repeating: 1, count: count)
        StoragePool.deallocate(first, count: count)
        let second = StoragePool.allocate(count - 1)
        XCTAssertEqual(first, second)
        StoragePool.deallocate(second, count: count - 1)
    }
}
