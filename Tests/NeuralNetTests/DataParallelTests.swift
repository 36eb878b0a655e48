import Autodiff
import Parallelism
import SeededRandom
import XCTest
@testable import NeuralNet

final class DataParallelTests: XCTestCase {
    override func tearDown() {
        WorkerPool.shared.setThreadCount(1)
    }

    /// A small conv network and a batch of 10 inputs and targets.
    private func makeProblem() -> (network: Sequential, inputs: [Float], targets: [Float]) {
        var generator = SeededGenerator(seed: 5)
        let network = Sequential(
            Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: .valid, generator: &generator),
            Activation(.relu), Flatten(),
            Dense(inputSize: 2 * 2 * 3, outputSize: 5, generator: &generator), Activation(.tanh),
            Dense(inputSize: 5, outputSize: 2, generator: &generator))
        let inputs = (0..<(10 * 4 * 4 * 2)).map { _ in generator.uniformFloat() * 2 - 1 }
        let targets = (0..<(10 * 2)).map { _ in generator.uniformFloat() }
        return (network, inputs, targets)
    }

    /// The gradients of the mean squared error over the batch, computed in shards of at
    /// most `shardSize` rows.
    private func gradients(shardSize: Int, threads: Int) -> [[Float]] {
        WorkerPool.shared.setThreadCount(threads)
        let (network, inputs, targets) = makeProblem()
        let parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        let shards = Shards(rows: 10, shardSize: shardSize)
        let losses = parallel.computeGradients(over: shards) { replica, rows, weight in
            let x = Tensor(shape: [rows.count, 4, 4, 2], scalars: Array(inputs[(rows.lowerBound * 32)..<(rows.upperBound * 32)]))
            let y = Tensor(shape: [rows.count, 2], scalars: Array(targets[(rows.lowerBound * 2)..<(rows.upperBound * 2)]))
            let loss = meanSquaredError(replica(x), y)
            loss.backward(seed: [weight])
            return loss.scalar * weight
        }
        XCTAssertEqual(losses.count, shards.count)
        return network.parameters.map { $0.gradient ?? [] }
    }

    func testShardsCutTheBatchIntoNearEqualContiguousPieces() {
        let shards = Shards(rows: 10, shardSize: 3)
        XCTAssertEqual(shards.count, 4)
        XCTAssertEqual((0..<4).map { shards.rows(of: $0) }, [0..<2, 2..<5, 5..<7, 7..<10])
        XCTAssertEqual((0..<4).map { shards.weight(of: $0) }.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(Shards(rows: 1024, shardSize: 128).count, 8)
        XCTAssertEqual(Shards(rows: 32, shardSize: 128).count, 1)
    }

    /// Sharding changes only the order of additions: the gradient of the mean over the
    /// batch matches the unsharded one within float rounding (1e-6 relative to the largest
    /// component of each tensor).
    func testShardedGradientEqualsTheWholeBatchGradient() {
        let whole = gradients(shardSize: 10, threads: 1)
        let sharded = gradients(shardSize: 3, threads: 1)
        XCTAssertEqual(whole.map(\.count), sharded.map(\.count))
        for (a, b) in zip(whole, sharded) {
            let scale = max(a.map(abs).max() ?? 0, 1e-3)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6 * scale) }
        }
        XCTAssertTrue(whole.allSatisfy { $0.contains { $0 != 0 } }, "every parameter gets a gradient")
    }

    /// The shard cut depends on the configuration only, so any number of threads gives the
    /// same bits.
    func testShardedGradientIsTheSameBitForBitForAnyThreadCount() {
        let one = gradients(shardSize: 3, threads: 1)
        XCTAssertEqual(gradients(shardSize: 3, threads: 2), one)
        XCTAssertEqual(gradients(shardSize: 3, threads: 5), one)
    }

    func testReplicaReadsTheSameValuesAndKeepsItsOwnGradient() {
        let parameter = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
        let replica = parameter.replica()
        XCTAssertEqual(replica.scalars, [1, 2, 3])
        parameter.assign([4, 5, 6])  // an optimiser step on the original
        XCTAssertEqual(replica.scalars, [4, 5, 6])
        (replica * replica).sum().backward()
        XCTAssertEqual(replica.gradient, [8, 10, 12])
        XCTAssertNil(parameter.gradient, "the original's gradient is untouched")
        parameter.prepareGradient()
        parameter.addGradients(of: [replica, replica.replica()], in: 0..<3)
        XCTAssertEqual(parameter.gradient, [8, 10, 12])
        replica.releaseGradient()
        XCTAssertNil(replica.gradient)
    }

    /// Adam runs in chunks of 32,768 elements on the pool: element-wise, so any thread
    /// count gives the same bits, and each element follows the formula by hand.
    func testAdamInChunksIsTheSameForAnyThreadCountAndFollowsTheFormula() {
        func adamStep(threads: Int) -> [Float] {
            WorkerPool.shared.setThreadCount(threads)
            let parameter = Tensor(shape: [70_001], scalars: (0..<70_001).map { Float($0 % 97) / 97 - 0.5 },
                                   requiresGradient: true)
            (parameter * parameter).sum().backward()  // gradient 2θ
            let adam = Adam(parameters: [parameter], learningRate: 0.1)
            adam.step()
            return parameter.scalars
        }
        let one = adamStep(threads: 1)
        XCTAssertEqual(adamStep(threads: 3), one)
        // First step: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so θ ← θ − 0.1·g/(|g| + 1e-8).
        for i in [0, 40_000, 70_000] {
            let theta = Float(i % 97) / 97 - 0.5, g = 2 * theta
            XCTAssertEqual(one[i], theta - 0.1 * g / (abs(g) + 1e-8), accuracy: 1e-6)
        }
    }

    func testSumOfSquaresInLanesMatchesADoubleSum() {
        for count in [0, 1, 7, 8, 9, 1_000, 100_003] {
            let x = (0..<count).map { Float(($0 * 7919) % 1_000) / 1_000 - 0.5 }
            let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            let got = x.withUnsafeBufferPointer { sumOfSquares($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count) }
            XCTAssertEqual(Double(got), expected, accuracy: 1e-5 * max(expected, 1), "\(count)")
        }
    }
}
