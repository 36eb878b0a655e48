import SeededRandom
import XCTest
@testable import Autodiff

final class GraphTests: XCTestCase {
    func testValueUsedTwiceReceivesBothContributions() {
        let x = Tensor(shape: [2], scalars: [3, -2], requiresGradient: true)
        (x * x + x).sum().backward()  // d/dx (x² + x) = 2x + 1
        XCTAssertEqual(x.gradient, [7, -3])
    }

    func testGradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        XCTAssertEqual(x.gradient, [6, 6])
        x.zeroGradient()
        XCTAssertEqual(x.gradient, [0, 0])
        square(x).sum().backward()
        XCTAssertEqual(x.gradient, [2, 4])
    }

    func testGraphIsFreedAfterBackward() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        weak var intermediate: Tensor?
        var loss: Tensor!
        do {
            let h = tanh(x * 2)
            intermediate = h
            loss = h.sum()
        }
        XCTAssertNotNil(intermediate, "the loss keeps its graph alive until backward")
        loss.backward()
        XCTAssertNil(intermediate, "backward frees the graph even while the loss is alive")
        XCTAssertTrue(loss.isLeaf)
        XCTAssertNotNil(x.gradient)
    }

    func testUnusedGraphIsFreedWithItsResult() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        weak var intermediate: Tensor?
        do {
            let h = exp(x)
            intermediate = h
            _ = h.sum()
        }
        XCTAssertNil(intermediate)
    }

    func testNoGradientScopeRecordsNothing() {
        let w = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        let y = withoutGradients { w * 2 + 1 }
        XCTAssertFalse(y.requiresGradient)
        XCTAssertTrue(y.isLeaf)
        XCTAssertEqual(y.scalars, [3, 5])
        XCTAssertTrue((w * 2).requiresGradient, "recording resumes after the scope")
    }

    func testDetachedStopsGradients() {
        let w = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        let target = (w * 5).detached()
        XCTAssertFalse(target.requiresGradient)
        (w * target).sum().backward()  // target is a constant: d/dw = target = 5w
        XCTAssertEqual(w.gradient, [5, 10])
    }

    func testSeededBackwardOfANonScalar() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        square(x).backward(seed: [1, 0, 2])
        XCTAssertEqual(x.gradient, [2, 0, 12])
    }

    func testCreationOps() {
        XCTAssertEqual(Tensor.zeros([2, 2]).scalars, [0, 0, 0, 0])
        XCTAssertEqual(Tensor.ones([3]).scalars, [1, 1, 1])
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let a = Tensor.uniform([1000], low: -2, high: 3, generator: &g1)
        XCTAssertEqual(a.scalars, Tensor.uniform([1000], low: -2, high: 3, generator: &g2).scalars, "same seed, same values")
        XCTAssertTrue(a.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        XCTAssertEqual(a.mean().scalar, 0.5, accuracy: 0.15)
        var g3 = SeededGenerator(seed: 6)
        let n = Tensor.normal([20000], mean: 1, standardDeviation: 2, generator: &g3)
        let mean = n.mean().scalar
        let variance = square(n - mean).mean().scalar
        XCTAssertEqual(mean, 1, accuracy: 0.05)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.05)
    }
}
