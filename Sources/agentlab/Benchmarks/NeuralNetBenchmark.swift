import Autodiff
import CBLAS
import NeuralNet
import Parallelism
import SeededRandom

/// The `agentlab bench nn` workloads: one full Adam training step (zero gradients,
/// forward, loss, backward, update) of the networks the agents use, and sgemm as the
/// machine's reference.
enum NeuralNetBenchmark {
    /// Median microseconds of one Adam step of the 4→64→64→2 tanh MLP with MSE loss.
    static func mlpStep(batch: Int, repetitions: Int) -> Double {
        median(timeEach(warmUp: 200, repetitions: repetitions, makeMLPStep(batch: batch)))
    }

    /// A closure that runs one training step of the benchmark MLP.
    static func makeMLPStep(batch: Int) -> () -> Void {
        var generator = SeededGenerator(seed: 0)
        let network = Sequential(
            Dense(inputSize: 4, outputSize: 64, generator: &generator), Activation(.tanh),
            Dense(inputSize: 64, outputSize: 64, generator: &generator), Activation(.tanh),
            Dense(inputSize: 64, outputSize: 2, generator: &generator))
        let inputs = Tensor.uniform([batch, 4], low: -1, high: 1, generator: &generator)
        let targets = Tensor.uniform([batch, 2], low: -1, high: 1, generator: &generator)
        let optimizer = Adam(parameters: network.parameters, learningRate: 1e-4)
        return {
            optimizer.zeroGradients()
            meanSquaredError(network(inputs), targets).backward()
            optimizer.step()
        }
    }

    /// Median microseconds of one Adam step of MinAtar's network on a batch of 32 frames:
    /// conv 3×3×16 (valid) + ReLU, flatten (1,024), dense 128 + ReLU, dense 6; MSE loss.
    static func convStep(batch: Int, repetitions: Int) -> Double {
        var generator = SeededGenerator(seed: 1)
        let network = Sequential(
            Conv2D(inputChannels: 4, outputChannels: 16, kernelSize: 3, padding: .valid, generator: &generator),
            Activation(.relu), Flatten(),
            Dense(inputSize: 1024, outputSize: 128, generator: &generator), Activation(.relu),
            Dense(inputSize: 128, outputSize: 6, generator: &generator))
        let frames = Tensor.uniform([batch, 10, 10, 4], generator: &generator)
        let targets = Tensor.uniform([batch, 6], generator: &generator)
        let optimizer = Adam(parameters: network.parameters, learningRate: 1e-4)
        return median(timeEach(warmUp: 20, repetitions: repetitions) {
            optimizer.zeroGradients()
            meanSquaredError(network(frames), targets).backward()
            optimizer.step()
        })
    }

    /// Median microseconds of one Adam step of an LSTM (128 → 128) over a sequence of 32
    /// steps of a batch of 64, MSE against a fixed target [32, 64, 128]: PyTorch's
    /// `benchmarks/peers/lstm_step.py` times the same step. With `threads` > 1 the batch is
    /// cut into that many data-parallel shards of whole sequences.
    static func lstmStep(threads: Int, repetitions: Int) -> Double {
        WorkerPool.shared.setThreadCount(threads)
        let (steps, batch, size) = (32, 64, 128)
        var generator = SeededGenerator(seed: 4)
        let lstm = LSTM(inputSize: size, hiddenSize: size, generator: &generator)
        let inputs = Tensor.uniform([steps, batch, size], low: -1, high: 1, generator: &generator)
        let targets = Tensor.uniform([steps, batch, size], low: -1, high: 1, generator: &generator)
        let parallel = DataParallel(lstm, replica: { $0.replica() }, parameters: \.parameters)
        let optimizer = Adam(parameters: lstm.parameters, learningRate: 1e-4)
        let shards = Shards(rows: batch, shardSize: (batch + threads - 1) / threads)
        return median(timeEach(warmUp: 3, repetitions: repetitions) {
            optimizer.zeroGradients()
            _ = parallel.computeGradients(over: shards) { replica, rows, weight in
                let x = inputs.sliced(alongAxis: 1, rows), y = targets.sliced(alongAxis: 1, rows)
                let outputs = replica.sequence(x, initialState: replica.zeroState(batch: rows.count), resets: nil).outputs
                meanSquaredError(outputs, y).backward(seed: [weight])
            }
            optimizer.step()
        })
    }

    /// Median microseconds of one Adam step of `network` on `batch` rows, computed in
    /// data-parallel shards of `shardSize` rows on `threads` threads (`DataParallel`).
    static func shardedStep(
        _ network: Sequential, inputShape: [Int], outputs: Int, batch: Int, shardSize: Int, threads: Int,
        repetitions: Int
    ) -> Double {
        WorkerPool.shared.setThreadCount(threads)
        var generator = SeededGenerator(seed: 3)
        let inputs = Tensor.uniform([batch] + inputShape, generator: &generator)
        let targets = Tensor.uniform([batch, outputs], generator: &generator)
        let parallel = DataParallel(network, replica: { $0.replica() }, parameters: \.parameters)
        let optimizer = Adam(parameters: network.parameters, learningRate: 1e-4)
        let shards = Shards(rows: batch, shardSize: shardSize)
        let rowSize = inputShape.reduce(1, *)
        return median(timeEach(warmUp: 5, repetitions: repetitions) {
            optimizer.zeroGradients()
            _ = parallel.computeGradients(over: shards) { replica, rows, weight in
                let x = Tensor(shape: [rows.count] + inputShape, scalars: Array(UnsafeBufferPointer(
                    start: inputs.storage + rows.lowerBound * rowSize, count: rows.count * rowSize)))
                let y = Tensor(shape: [rows.count, outputs], scalars: Array(UnsafeBufferPointer(
                    start: targets.storage + rows.lowerBound * outputs, count: rows.count * outputs)))
                meanSquaredError(replica(x), y).backward(seed: [weight])
            }
            optimizer.step()
        })
    }

    /// MinAtar's network (as in `convStep`).
    static func makeConvNetwork() -> Sequential {
        var generator = SeededGenerator(seed: 1)
        return Sequential(
            Conv2D(inputChannels: 4, outputChannels: 16, kernelSize: 3, padding: .valid, generator: &generator),
            Activation(.relu), Flatten(),
            Dense(inputSize: 1024, outputSize: 128, generator: &generator), Activation(.relu),
            Dense(inputSize: 128, outputSize: 6, generator: &generator))
    }

    /// The benchmark MLP (as in `makeMLPStep`).
    static func makeMLP() -> Sequential {
        var generator = SeededGenerator(seed: 0)
        return Sequential(
            Dense(inputSize: 4, outputSize: 64, generator: &generator), Activation(.tanh),
            Dense(inputSize: 64, outputSize: 64, generator: &generator), Activation(.tanh),
            Dense(inputSize: 64, outputSize: 2, generator: &generator))
    }

    /// Summed sgemm GFLOP/s of every thread of the pool multiplying its own n × n matrices
    /// at once: what the machine gives to independent work, the ceiling of any speed-up.
    static func concurrentSgemmGigaflops(n: Int) -> Double {
        let threads = WorkerPool.shared.threadCount
        var rates = [Double](repeating: 0, count: threads)
        rates.withUnsafeMutableBufferPointer { rates in
            let output = rates.baseAddress!
            WorkerPool.shared.runOnEachThread { thread, _ in output[thread] = sgemmGigaflops(n: n) }
        }
        return rates.reduce(0, +)
    }

    /// sgemm GFLOP/s for square n × n matrices (2n³ flops per product).
    static func sgemmGigaflops(n: Int) -> Double {
        var generator = SeededGenerator(seed: 2)
        let a = Tensor.uniform([n, n], generator: &generator), b = Tensor.uniform([n, n], generator: &generator)
        let c = Tensor.zeros([n, n])
        let repetitions = Swift.max(5, Swift.min(2000, 200_000_000 / (n * n * n)))
        let micros = median(timeEach(warmUp: 3, repetitions: repetitions) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a.storage, Int32(n), b.storage, Int32(n), 0, c.storage, Int32(n))
        })
        return 2 * Double(n * n * n) / (micros * 1000)
    }

    /// The kernels OpenBLAS chose for this CPU (or that `OPENBLAS_CORETYPE` forced).
    static var blasCore: String { BLASKernels.coreName }

    /// Peak resident memory after `steps` MLP steps (for the flat-memory check).
    static func peakMemoryAfterMLPSteps(_ steps: Int) -> Double {
        let step = makeMLPStep(batch: 64)
        for _ in 0..<steps { step() }
        return peakResidentMiB()
    }

    /// Every workload. `quick` shortens the runs (for smoke tests).
    static func run(quick: Bool = false) -> [BenchmarkResult] {
        let r = quick ? 50 : 3000
        let memory1k = peakMemoryAfterMLPSteps(quick ? 100 : 1000)
        let memory100k = peakMemoryAfterMLPSteps(quick ? 1000 : 100_000)
        func result(_ name: String, _ unit: String, _ value: Double, target: Double? = nil,
                    higherIsBetter: Bool = false, _ detail: String) -> BenchmarkResult {
            BenchmarkResult(suite: "nn", name: name, unit: unit, value: value, target: target,
                            higherIsBetter: higherIsBetter, detail: detail)
        }
        let threads = WorkerPool.shared.threadCount
        defer { WorkerPool.shared.setThreadCount(threads) }
        var results = [
            result("mlp_b64_adam_step", "µs", mlpStep(batch: 64, repetitions: r), target: 25,
                   "4→64→64→2 tanh, MSE, Adam; median of one full step"),
            result("mlp_b256_adam_step", "µs", mlpStep(batch: 256, repetitions: r), target: 60,
                   "the same, batch 256"),
            result("conv_b32_adam_step", "µs", convStep(batch: 32, repetitions: quick ? 10 : 500), target: 300,
                   "10×10×4 → conv 3×3×16 valid, ReLU → dense 128, ReLU → 6; batch 32"),
            result("sgemm_n64", "GFLOP/s", sgemmGigaflops(n: 64), higherIsBetter: true,
                   "OpenBLAS (\(blasCore) kernels), 64×64 by 64×64"),
            result("sgemm_n1024", "GFLOP/s", sgemmGigaflops(n: 1024), higherIsBetter: true,
                   "OpenBLAS (\(blasCore) kernels), 1024×1024 by 1024×1024"),
            result("peak_memory_1k_steps", "MiB", memory1k, "whole process after 1,000 MLP b64 steps"),
            result("peak_memory_100k_steps", "MiB", memory100k, target: memory1k * 1.02,
                   "after 100,000 more: must stay at the 1,000-step figure"),
        ]
        // Data-parallel steps: the same shards on one thread and on every thread.
        let shardRepetitions = quick ? 5 : 200
        for (name, count) in [("1_thread", 1), ("\(threads)_threads", threads)] where count == 1 || threads > 1 {
            results.append(result(
                "mlp_b1024_sharded_\(name)", "µs",
                shardedStep(makeMLP(), inputShape: [4], outputs: 2, batch: 1024, shardSize: 128, threads: count,
                            repetitions: shardRepetitions * 4),
                "the MLP step on batch 1,024 in 8 shards of 128 on \(count) thread\(count == 1 ? "" : "s")"))
            results.append(result(
                "conv_b1024_sharded_\(name)", "µs",
                shardedStep(makeConvNetwork(), inputShape: [10, 10, 4], outputs: 6, batch: 1024, shardSize: 128,
                            threads: count, repetitions: shardRepetitions),
                "the conv step on batch 1,024 (PPO's Breakout minibatch) in 8 shards of 128"))
        }
        for count in threads > 1 ? [1, threads] : [1] {
            results.append(result(
                "lstm_t32_b64_h128_adam_step_\(count)_thread\(count == 1 ? "" : "s")", "µs",
                lstmStep(threads: count, repetitions: quick ? 3 : 100),
                "LSTM 128→128 over 32 steps of 64 sequences, MSE, Adam"
                    + (count > 1 ? "; the batch in \(count) shards of whole sequences" : "")
                    + " (PyTorch: benchmarks/peers/lstm_step.py)"))
        }
        if threads > 1 {
            WorkerPool.shared.setThreadCount(threads)
            results.append(result(
                "sgemm_n256_every_thread", "GFLOP/s", concurrentSgemmGigaflops(n: 256), higherIsBetter: true,
                "\(threads) threads each multiplying their own 256×256 matrices at once (one alone: "
                    + "\(sgemmGigaflops(n: 256).formatted(significantDigits: 3)))"))
        }
        return results
    }
}
