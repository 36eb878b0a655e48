import Autodiff
import Foundation
import XCTest
@testable import NeuralNet

/// Optimiser steps against PyTorch (Reference/optimizers.json, made by
/// make_optimizer_reference.py): the same problem, the gradient computed by our autodiff,
/// eight steps of each optimiser and setting.
final class OptimizerTests: XCTestCase {
    func testStepsMatchPyTorch() throws {
        let reference = try loadReference("optimizers.json")
        let problem = reference["problem"] as! [String: Any]
        let c = Tensor(shape: [6], scalars: floats(problem["c"]))
        let t = Tensor(shape: [6], scalars: floats(problem["t"]))
        let cases = reference["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 13)
        for entry in cases {
            let name = entry["name"] as! String
            let h = entry["hyperparameters"] as! [String: Any]
            func value(_ key: String) -> Float { Float((h[key] as! NSNumber).doubleValue) }
            let p = Tensor(shape: [6], scalars: floats(entry["initial_params"]), requiresGradient: true)
            let optimizer: any Optimizer
            switch entry["optimizer"] as! String {
            case "SGD":
                optimizer = SGD(parameters: [p], learningRate: value("lr"), momentum: value("momentum"),
                                dampening: value("dampening"), weightDecay: value("weight_decay"),
                                nesterov: h["nesterov"] as! Bool)
            case "Adam":
                optimizer = Adam(parameters: [p], learningRate: value("lr"), beta1: value("beta1"),
                                 beta2: value("beta2"), epsilon: value("eps"), weightDecay: value("weight_decay"))
            case "RMSprop":
                optimizer = RMSprop(parameters: [p], learningRate: value("lr"), alpha: value("alpha"),
                                    epsilon: value("eps"), weightDecay: value("weight_decay"),
                                    momentum: value("momentum"), centered: h["centered"] as! Bool)
            default:
                XCTFail("unknown optimizer in \(name)"); continue
            }
            for step in entry["steps"] as! [[String: Any]] {
                optimizer.zeroGradients()
                // L = Σ c (p − t)² + 0.1 p⁴
                let loss = (c * square(p - t) + square(square(p)) * 0.1).sum()
                XCTAssertEqual(loss.scalar, Float((step["loss"] as! NSNumber).doubleValue), accuracy: 1e-4, name)
                loss.backward()
                XCTAssertClose(p.gradient!, floats(step["grad"]), absolute: 1e-5, relative: 1e-5, "\(name) gradient, step \(step["step"]!)")
                optimizer.step()
                // Float32 rounding differs between implementations by about an ulp per step.
                XCTAssertClose(p.scalars, floats(step["params"]), absolute: 2e-6, relative: 2e-6, "\(name) step \(step["step"]!)")
            }
        }
    }

    func testGlobalNormClippingMatchesPyTorch() throws {
        let reference = try loadReference("optimizers.json")
        for entry in reference["clip_grad_norm"] as! [[String: Any]] {
            let before = (entry["grads_before"] as! [Any]).map { referenceTensor($0) }
            let after = (entry["grads_after"] as! [Any]).map { referenceTensor($0) }
            let parameters = before.map { Tensor.zeros($0.shape, requiresGradient: true) }
            for (p, g) in zip(parameters, before) { (p * g.detached()).sum().backward() }  // gradient := g
            let norm = clipGradientNorm(parameters, maxNorm: Float((entry["max_norm"] as! NSNumber).doubleValue))
            XCTAssertEqual(norm, Float((entry["total_norm"] as! NSNumber).doubleValue), accuracy: 1e-5)
            for (p, expected) in zip(parameters, after) {
                XCTAssertClose(p.gradient!, expected.scalars, absolute: 1e-7, relative: 1e-6, entry["name"] as! String)
            }
        }
    }

    func testSGDStepWorkedOutByHand() {
        // θ = 1, gradient 2θ = 2, momentum 0.9: b₁ = 2, θ₁ = 1 − 0.1·2 = 0.8;
        // gradient 1.6, b₂ = 0.9·2 + 1.6 = 3.4, θ₂ = 0.8 − 0.34 = 0.46.
        let p = Tensor(shape: [1], scalars: [1], requiresGradient: true)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        for _ in 0..<2 {
            sgd.zeroGradients()
            square(p).sum().backward()
            sgd.step()
        }
        XCTAssertEqual(p.scalar, 0.46, accuracy: 1e-6)
    }

    func testParametersWithoutGradientsAreLeftAlone() {
        let used = Tensor(shape: [1], scalars: [1], requiresGradient: true)
        let unused = Tensor(shape: [1], scalars: [5], requiresGradient: true)
        let adam = Adam(parameters: [used, unused], learningRate: 0.1)
        square(used).sum().backward()
        adam.step()
        XCTAssertEqual(unused.scalar, 5)
        XCTAssertEqual(used.scalar, 0.9, accuracy: 1e-6, "Adam's first step moves by lr·sign(g)")
    }
}
