import Foundation
import SeededRandom
import XCTest
@testable import NeuralNet

final class SafeTensorsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func makeNetwork(seed: UInt64) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        return Sequential(Dense(inputSize: 3, outputSize: 4, generator: &generator), Activation(.tanh),
                          Dense(inputSize: 4, outputSize: 2, generator: &generator))
    }

    func testRoundTripRestoresEveryParameter() throws {
        let saved = makeNetwork(seed: 1)
        let url = folder.appendingPathComponent("model.safetensors")
        try saved.saveParameters(to: url, metadata: ["environment": "CartPole-v1"])
        let restored = makeNetwork(seed: 2)
        XCTAssertNotEqual(restored.parameters[0].scalars, saved.parameters[0].scalars)
        try restored.loadParameters(from: url)
        for (a, b) in zip(saved.namedParameters, restored.namedParameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.tensor.scalars, b.tensor.scalars, a.name)
        }
        XCTAssertEqual(try SafeTensors.read(from: url).metadata, ["environment": "CartPole-v1"])
        XCTAssertEqual(saved.namedParameters.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    func testByteLayoutFollowsTheFormat() throws {
        let data = SafeTensors.encode([
            ("b", .init(shape: [2], scalars: [1.5, -2])),
            ("a", .init(shape: [1, 1], scalars: [0.25])),
        ])
        let headerLength = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertEqual(headerLength % 8, 0, "the header is padded to 8 bytes")
        XCTAssertEqual(data.count, 8 + headerLength + 12, "header, then 3 floats")
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let b = header["b"] as! [String: Any], a = header["a"] as! [String: Any]
        XCTAssertEqual(b["dtype"] as? String, "F32")
        XCTAssertEqual(b["shape"] as? [Int], [2])
        XCTAssertEqual(b["data_offsets"] as? [Int], [0, 8])
        XCTAssertEqual(a["shape"] as? [Int], [1, 1])
        XCTAssertEqual(a["data_offsets"] as? [Int], [8, 12])
        // 1.5 = 0x3FC00000 little-endian right after the header.
        XCTAssertEqual(Array(data[(8 + headerLength)..<(8 + headerLength + 4)]), [0x00, 0x00, 0xC0, 0x3F])
    }

    func testReadsAFileWrittenByPythonsSafetensors() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "python_written.safetensors", withExtension: nil, subdirectory: "Reference"))
        let expected = try loadReference("python_written.json")["tensors"] as! [String: [String: Any]]
        let (tensors, metadata) = try SafeTensors.read(from: url)
        XCTAssertEqual(metadata, ["format": "pt"])
        XCTAssertEqual(Set(tensors.keys), Set(expected.keys))
        for (name, info) in expected {
            XCTAssertEqual(tensors[name]?.shape, info["shape"] as? [Int], name)
            XCTAssertEqual(tensors[name]?.scalars, floats(info["values"]), name)
        }
    }

    func testTruncatedAndCorruptFilesAreReported() throws {
        let good = SafeTensors.encode([("w", .init(shape: [4], scalars: [1, 2, 3, 4]))])
        XCTAssertThrowsError(try SafeTensors.decode(good.prefix(5))) { error in
            guard case CheckpointError.truncated = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try SafeTensors.decode(good.prefix(good.count - 3))) { error in
            guard case CheckpointError.truncated = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("'w'"), "\(error)")
        }
        var garbled = good
        garbled[10] = 0x7B  // '{' inside the JSON
        garbled[11] = 0x7B
        XCTAssertThrowsError(try SafeTensors.decode(garbled)) { error in
            guard case CheckpointError.corruptHeader = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try SafeTensors.read(from: folder.appendingPathComponent("absent.safetensors"))) { error in
            guard case CheckpointError.unreadable(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "no such file")
        }
    }

    func testMismatchedNetworkIsRefusedAndNothingIsHalfLoaded() throws {
        let url = folder.appendingPathComponent("small.safetensors")
        try makeNetwork(seed: 1).saveParameters(to: url)
        var generator = SeededGenerator(seed: 3)
        let wider = Sequential(Dense(inputSize: 3, outputSize: 4, generator: &generator), Activation(.tanh),
                               Dense(inputSize: 4, outputSize: 3, generator: &generator))
        let before = wider.parameters.map(\.scalars)
        XCTAssertThrowsError(try wider.loadParameters(from: url)) { error in
            XCTAssertEqual(error as? CheckpointError, .shapeMismatch(name: "2.weight", expected: [4, 3], found: [4, 2]))
            XCTAssertTrue("\(error)".contains("[4, 3]") && "\(error)".contains("[4, 2]"))
        }
        XCTAssertEqual(wider.parameters.map(\.scalars), before, "the first layer, which fits, was not loaded either")

        let deeper = Sequential(Dense(inputSize: 3, outputSize: 4, generator: &generator))
        XCTAssertThrowsError(try deeper.loadParameters(from: url)) { error in
            XCTAssertEqual(error as? CheckpointError, .unexpectedTensor(name: "2.bias"))
        }
        let missing = try SafeTensors.read(from: url).tensors.filter { $0.key != "0.bias" }
        XCTAssertThrowsError(try makeNetwork(seed: 4).loadParameters(from: missing)) { error in
            XCTAssertEqual(error as? CheckpointError, .missingTensor(name: "0.bias"))
        }
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let url = folder.appendingPathComponent("model.safetensors")
        try makeNetwork(seed: 1).saveParameters(to: url)
        try makeNetwork(seed: 2).saveParameters(to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.safetensors"])
        XCTAssertThrowsError(try makeNetwork(seed: 1).saveParameters(to: folder.appendingPathComponent("no/such/dir/m.safetensors"))) { error in
            guard case CheckpointError.writeFailed = error else { return XCTFail("\(error)") }
        }
    }

    /// The reader bounds and checks everything before allocating: overflowing or huge
    /// shapes, overlapping, gapped or misaligned offsets, trailing bytes and duplicate names
    /// are all refused with a message naming the tensor.
    func testHostileHeadersAreRefused() throws {
        func file(_ header: String, body: Int) -> Data {
            var data = Data()
            var length = UInt64(header.utf8.count).littleEndian
            withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
            data.append(contentsOf: Array(header.utf8))
            data.append(contentsOf: [UInt8](repeating: 0, count: body))
            return data
        }
        let cases: [(header: String, body: Int, message: String)] = [
            (#"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}"#, 16, "more elements than any file"),
            (#"{"w":{"dtype":"F32","shape":[1000000],"data_offsets":[0,16]}}"#, 16, "needs 4000000 bytes"),
            (#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#, 16, "more elements than any file"),
            (#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}}"#, 16, "not up to 8 whole numbers"),
            (#"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}}"#, 16, "not up to 8 whole numbers"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12, "overlaps"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}"#, 10, "belong to no tensor"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 7, "follow the last tensor"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "names 'a' twice"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}"#, 4, "not two whole numbers"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":5}}"#, 4, "__metadata__"),
        ]
        for testCase in cases {
            XCTAssertThrowsError(try SafeTensors.decode(file(testCase.header, body: testCase.body)), testCase.header) { error in
                XCTAssertTrue("\(error)".contains(testCase.message), "\(testCase.header): \(error)")
            }
        }
        var length = UInt64.max.littleEndian
        var claimsTooMuch = Data()
        withUnsafeBytes(of: &length) { claimsTooMuch.append(contentsOf: $0) }
        XCTAssertThrowsError(try SafeTensors.decode(claimsTooMuch + Data("{}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("more than the 100000000 allowed"), "\(error)")
        }
        // A key that only looks like a duplicate (inside a string, or nested) is fine.
        let fine = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"a":"\"a\":"}}"#
        XCTAssertEqual(try SafeTensors.decode(file(fine, body: 4)).tensors["a"]?.scalars, [0])
    }
}
