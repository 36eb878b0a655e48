import Autodiff
import Foundation
import XCTest
@testable import NeuralNet

/// AdamW, RMSprop with weight decay and the learning-rate schedules against PyTorch
/// (Reference/toolkit_optimizers.json, made by make_toolkit_optimizer_reference.py).
final class ToolkitOptimizerTests: XCTestCase {
    func testAdamWAndRMSpropWeightDecayMatchPyTorch() throws {
        let reference = try loadReference("toolkit_optimizers.json")
        let problem = reference["problem"] as! [String: Any]
        let c = Tensor(shape: [6], scalars: floats(problem["c"]))
        let t = Tensor(shape: [6], scalars: floats(problem["t"]))
        let cases = reference["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.map { $0["optimizer"] as! String }, ["AdamW", "AdamW", "RMSprop"])
        for entry in cases {
            let name = entry["name"] as! String
            let h = entry["hyperparameters"] as! [String: Any]
            func value(_ key: String) -> Float { Float((h[key] as! NSNumber).doubleValue) }
            let p = Tensor(shape: [6], scalars: floats(entry["initial_params"]), requiresGradient: true)
            let optimizer: any Optimizer = entry["optimizer"] as! String == "AdamW"
                ? Adam.adamW(parameters: [p], learningRate: value("lr"), beta1: value("beta1"), beta2: value("beta2"),
                             epsilon: value("eps"), weightDecay: value("weight_decay"))
                : RMSprop(parameters: [p], learningRate: value("lr"), alpha: value("alpha"), epsilon: value("eps"),
                          weightDecay: value("weight_decay"), momentum: value("momentum"), centered: h["centered"] as! Bool)
            for step in entry["steps"] as! [[String: Any]] {
                optimizer.zeroGradients()
                // L = Σ c (p − t)² + 0.1 p⁴, the problem of optimizers.json.
                let loss = (c * square(p - t) + square(square(p)) * 0.1).sum()
                loss.backward()
                XCTAssertClose(p.gradient!, floats(step["grad"]), absolute: 1e-5, relative: 1e-5, "\(name) gradient")
                optimizer.step()
                // As in OptimizerTests: about an ulp of float32 rounding per step.
                XCTAssertClose(p.scalars, floats(step["params"]), absolute: 2e-6, relative: 2e-6, "\(name) step \(step["step"]!)")
            }
        }
    }

    func testAdamWDecaysWeightsOutsideTheMoments() {
        // With a zero gradient Adam's step is 0, so AdamW only shrinks: θ ← θ(1 − ηλ) each
        // step; Adam's L2 penalty instead feeds λθ through the moments (a step of ≈ η).
        let p = Tensor(shape: [1], scalars: [2], requiresGradient: true)
        let adamW = Adam.adamW(parameters: [p], learningRate: 0.1, weightDecay: 0.5)
        for _ in 0..<3 {
            adamW.zeroGradients()
            (p * 0).sum().backward()
            adamW.step()
        }
        XCTAssertEqual(p.scalar, 2 * 0.95 * 0.95 * 0.95, accuracy: 1e-6)
    }

    func testSchedulesMatchPyTorch() throws {
        let reference = try loadReference("toolkit_optimizers.json")["lr_schedules"] as! [String: Any]
        let schedules = reference["schedules"] as! [String: [String: Any]]
        let progress = (reference["progress"] as! [NSNumber]).map(\.doubleValue)
        let ours: [String: LearningRateSchedule] = [
            "constant": LearningRateSchedule(kind: .constant),
            "linear": LearningRateSchedule(kind: .linear, finalFactor: 0.1),
            "step": LearningRateSchedule(kind: .step, interval: 0.25, gamma: 0.5),
            "exponential": LearningRateSchedule(kind: .exponential, finalFactor: pow(0.8, 20)),
            "cosine_warmup": LearningRateSchedule(kind: .cosine, finalFactor: 0.05, warmup: 0.2, warmupStart: 0.1),
        ]
        XCTAssertEqual(Set(schedules.keys), Set(ours.keys))
        for (name, schedule) in ours {
            let expected = floats(schedules[name]!["factors"])
            let computed = progress.map { Float(schedule.factor(atProgress: $0)) }
            // The factors are stored as float32: a relative 1e-6 is a few ulps.
            XCTAssertClose(computed, expected, absolute: 1e-7, relative: 1e-6, name)
        }
    }

    func testScheduleSettingsOutOfRangeAreNamed() {
        XCTAssertEqual(LearningRateSchedule(kind: .step, interval: 0).problem(prefix: "s"), "s.interval must be in (0, 1], got 0.0")
        XCTAssertEqual(LearningRateSchedule(warmup: 1).problem(prefix: "s"), "s.warmup must be in [0, 1), got 1.0")
        XCTAssertNotNil(LearningRateSchedule(kind: .exponential, finalFactor: 0).problem(prefix: "s"))
        XCTAssertNil(LearningRateSchedule(kind: .cosine, finalFactor: 0, warmup: 0.1).problem(prefix: "s"))
    }
}
