import Environments
import Foundation
import Parallelism
import SeededRandom
import Training

/// The `agentlab bench envs` workloads: steps per second of every registered environment
/// (with its registry wrappers), random actions, observations written, one copy and a
/// vector of 1,024 copies on one thread and on every thread of the worker pool, and the
/// ratio of the two.
enum EnvironmentBenchmark {
    /// The targets in millions of steps per second: (one copy, 1,024 copies).
    static func targets(for id: String) -> (single: Double?, vector: Double?) {
        switch id {
        case "CartPole-v1": (18, 64)
        case "Breakout-MinAtar": (nil, 14)
        case let id where id.hasSuffix("-MinAtar"): (nil, 5)
        default: (nil, nil)
        }
    }

    /// Random actions drawn before timing, cycled through by the timed loop.
    static func randomActions(count: Int, actionCount: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.int(below: actionCount) }
    }

    /// Random continuous actions within `box`, `count` of them back to back.
    static func randomActions(count: Int, in box: Box, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).flatMap { _ in box.sample(using: &generator) }
    }

    /// Steps per second of one copy over `steps` steps, resetting when an episode ends.
    static func singleCopyRate<E: Environment>(_ prototype: E, steps: Int) -> Double {
        if let box = prototype.actionSpace.box { return continuousSingleCopyRate(prototype, box: box, steps: steps) }
        var environment = prototype
        let actions = randomActions(count: 1 << 16, actionCount: environment.actionSpace.width, seed: 1)
        var observation = [Float](repeating: 0, count: environment.observationSpace.count)
        return observation.withUnsafeMutableBufferPointer { buffer in
            environment.reset(seed: 0, into: buffer)
            let start = monotonicNanoseconds()
            for t in 0..<steps {
                // The actions are in range, so step cannot throw.
                let outcome = (try? environment.step(actions[t & 0xFFFF], into: buffer)) ?? StepOutcome(reward: 0, isTerminated: true)
                if outcome.isDone { environment.reset(seed: nil, into: buffer) }
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            return Double(steps) / seconds
        }
    }

    /// The same with random continuous actions.
    static func continuousSingleCopyRate<E: Environment>(_ prototype: E, box: Box, steps: Int) -> Double {
        var environment = prototype
        let width = box.count
        let actions = randomActions(count: 1 << 12, in: box, seed: 1)
        var observation = [Float](repeating: 0, count: environment.observationSpace.count)
        return actions.withUnsafeBufferPointer { actions in
            observation.withUnsafeMutableBufferPointer { buffer in
                environment.reset(seed: 0, into: buffer)
                let start = monotonicNanoseconds()
                for t in 0..<steps {
                    let action = UnsafeBufferPointer(rebasing: actions[((t & 0xFFF) * width)..<((t & 0xFFF) + 1) * width])
                    // The actions are in the box, so step cannot throw.
                    let outcome = (try? environment.step(action, into: buffer)) ?? StepOutcome(reward: 0, isTerminated: true)
                    if outcome.isDone { environment.reset(seed: nil, into: buffer) }
                }
                return Double(steps) / (Double(monotonicNanoseconds() - start) / 1e9)
            }
        }
    }

    /// Steps per second (summed over copies) of a vector of `copies` over `rounds` steps.
    static func vectorRate(_ environment: any VectorStepping, rounds: Int) -> Double {
        if let box = environment.actionSpace.box { return continuousVectorRate(environment, box: box, rounds: rounds) }
        let copies = environment.count
        let table = randomActions(count: copies * 64, actionCount: environment.actionSpace.width, seed: 2)
        environment.reset(seed: 0)
        return table.withUnsafeBufferPointer { all in
            let start = monotonicNanoseconds()
            for round in 0..<rounds {
                let slice = UnsafeBufferPointer(rebasing: all[((round & 63) * copies)..<((round & 63) + 1) * copies])
                try! environment.step(slice)
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            return Double(rounds * copies) / seconds
        }
    }

    /// The same with random continuous actions.
    static func continuousVectorRate(_ environment: any VectorStepping, box: Box, rounds: Int) -> Double {
        let copies = environment.count, width = box.count
        let table = randomActions(count: copies * 64, in: box, seed: 2)
        environment.reset(seed: 0)
        return table.withUnsafeBufferPointer { all in
            let start = monotonicNanoseconds()
            for round in 0..<rounds {
                let slice = UnsafeBufferPointer(
                    rebasing: all[((round & 63) * copies * width)..<(((round & 63) + 1) * copies * width)])
                try! environment.step(slice)
            }
            return Double(rounds * copies) / (Double(monotonicNanoseconds() - start) / 1e9)
        }
    }

    /// The least speed-up of 1,024 copies on two or more threads over one thread.
    static func scalingTarget(for id: String) -> Double {
        id == "CartPole-v1" || id == "Breakout-MinAtar" ? 1.7 : 1.0
    }

    static func run(quick: Bool = false) -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        let threads = WorkerPool.shared.threadCount
        let oneThread = WorkerPool(threadCount: 1)
        for spec in EnvironmentRegistry.standard.specs {
            let (singleTarget, vectorTarget) = targets(for: spec.id)
            let single = singleCopyRate(spec.makeEnvironment(), steps: quick ? 20_000 : 5_000_000)
            results.append(BenchmarkResult(
                suite: "envs", name: "\(spec.id) ×1", unit: "M steps/s", value: single / 1e6, target: singleTarget,
                higherIsBetter: true, detail: "one copy, one thread"))
            let rounds = quick ? 10 : 20_000
            let vector = makeVectorEnvironment(spec.makeEnvironment(), count: 1024)
            vector.workerPool = oneThread
            let serialRate = vectorRate(vector, rounds: rounds)
            vector.workerPool = .shared
            let rate = vectorRate(vector, rounds: rounds)
            results.append(BenchmarkResult(
                suite: "envs", name: "\(spec.id) ×1024", unit: "M steps/s", value: rate / 1e6,
                target: threads > 1 ? vectorTarget : nil,
                higherIsBetter: true, detail: "1,024 copies over \(threads) threads"))
            if threads > 1 {
                // The machine's own ceiling: every thread stepping its own single copy, sharing nothing.
                var rates = [Double](repeating: 0, count: threads)
                rates.withUnsafeMutableBufferPointer { rates in
                    let output = rates.baseAddress!
                    WorkerPool.shared.runOnEachThread { thread, _ in
                        output[thread] = singleCopyRate(spec.makeEnvironment(), steps: quick ? 20_000 : 5_000_000)
                    }
                }
                results.append(BenchmarkResult(
                    suite: "envs", name: "\(spec.id) ×1 on every thread", unit: "×", value: rates.reduce(0, +) / single,
                    target: nil, higherIsBetter: true,
                    detail: "\(threads) independent copies at once over one alone: the machine's ceiling"))
                results.append(BenchmarkResult(
                    suite: "envs", name: "\(spec.id) ×1024 scaling", unit: "×", value: rate / serialRate,
                    target: quick ? nil : scalingTarget(for: spec.id), higherIsBetter: true,
                    detail: "\(threads) threads over 1 (\((serialRate / 1e6).formatted(significantDigits: 3)) M steps/s)"))
            }
        }
        return results
    }
}
