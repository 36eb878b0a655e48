import Autodiff
import Foundation
import XCTest
@testable import NeuralNet

/// Loads a JSON file that the scripts in Reference/ wrote with PyTorch (see its README).
func loadReference(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Reference"),
                            "missing reference file \(name)", file: file, line: line)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(object as? [String: Any], file: file, line: line)
}

/// A `{"shape": [...], "values": [...]}` object as a tensor.
func referenceTensor(_ object: Any?, requiresGradient: Bool = false) -> Tensor {
    let dictionary = object as! [String: Any]
    let shape = (dictionary["shape"] as! [NSNumber]).map(\.intValue)
    return Tensor(shape: shape, scalars: floats(dictionary["values"]), requiresGradient: requiresGradient)
}

/// A JSON array of numbers as Float32 (the files store float32 values as the shortest
/// decimal that reads back as the same Double, so this conversion is exact).
func floats(_ object: Any?) -> [Float] {
    (object as! [NSNumber]).map { Float($0.doubleValue) }
}

func XCTAssertClose(
    _ a: [Float], _ b: [Float], absolute: Float, relative: Float = 0, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "counts differ \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= absolute + relative * Swift.abs(y)) {
        XCTFail("element \(i): \(x) vs reference \(y) \(message)", file: file, line: line)
        return
    }
}
