import Autodiff
import CBLAS
import NeuralNet
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
        return [
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
    }
}
