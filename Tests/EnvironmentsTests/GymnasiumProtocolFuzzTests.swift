@testable import Environments
import SeededRandom
import XCTest

/// The bridge's reply parser against hostile bytes: a worker (or whatever sits at the other
/// end of the pipe) cannot crash `agentlab` or make it allocate without bound. No Python needed.
final class GymnasiumProtocolFuzzTests: XCTestCase {
    /// MAKE's ok payload for a CartPole-like environment: Box(4) observations, Discrete(2)
    /// actions, limit 500, threshold 475, 50 fps, a description.
    static func validDescription() -> [UInt8] {
        var bytes = [UInt8]()
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        put(UInt32(1))
        put(UInt32(1)); put(UInt32(4))
        for value: Float in [-4.8, -.infinity, -0.42, -.infinity, 4.8, .infinity, 0.42, .infinity] {
            put(value.bitPattern)
        }
        bytes.append(0); put(Int64(2)); put(Int64(0))
        put(Int64(500)); put((475.0).bitPattern); put(UInt32(50))
        let text = Array("CartPole-v1 (CartPoleEnv)".utf8)
        put(UInt32(text.count)); bytes += text
        return bytes
    }

    func parse(_ bytes: [UInt8]) throws(GymnasiumError) -> GymnasiumDescription {
        var reader = GymnasiumReader(bytes[...], id: "Fuzz-v0")
        return try GymnasiumDescription(reading: &reader, id: "Fuzz-v0")
    }

    func testAValidDescriptionParses() throws {
        let description = try parse(Self.validDescription())
        XCTAssertEqual(description.observationSpace.shape, [4])
        XCTAssertEqual(description.observationSpace.high[1], .infinity)
        XCTAssertEqual(description.actionSpace, .discrete(Discrete(2)))
        XCTAssertEqual(description.maxEpisodeSteps, 500)
        XCTAssertEqual(description.rewardThreshold, 475)
        XCTAssertEqual(description.renderFPS, 50)
        XCTAssertEqual(description.summary, "CartPole-v1 (CartPoleEnv)")
    }

    func testHugeShapesCrossedBoundsAndTruncationAreRefusedByName() {
        var huge = Self.validDescription()
        huge.replaceSubrange(8..<12, with: [0xff, 0xff, 0xff, 0x7f])  // a dimension of 2^31 − 1
        var crossed = Self.validDescription()
        crossed.replaceSubrange(12..<16, with: (Float(9).bitPattern.littleEndian).bytes)  // low 9 > high 4.8
        var nan = Self.validDescription()
        nan.replaceSubrange(12..<16, with: (Float.nan.bitPattern.littleEndian).bytes)
        let cases: [([UInt8], String)] = [
            (huge, "a space of more than"), (crossed, "bounds are NaN or crossed"), (nan, "bounds are NaN or crossed"),
            (Array(Self.validDescription().dropLast(3)), "shorter than its fields"),
            (Self.validDescription() + [0], "trailing bytes"),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrowsError(try parse(bytes)) { error in
                guard case .protocolViolation(_, let detail) = error as? GymnasiumError else { return XCTFail("\(error)") }
                XCTAssertTrue(detail.contains(expected), detail)
            }
        }
    }

    /// 5,000 seeded mutations (bytes replaced, inserted, removed, the tail cut): each either
    /// parses into spaces within the limits or is refused as a protocol violation.
    func testMutatedDescriptionsNeverCrash() {
        let valid = Self.validDescription()
        var generator = SeededGenerator(seed: 14)
        var refused = 0
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<(1 + generator.int(below: 4)) {
                let position = generator.int(below: bytes.count)
                switch generator.int(below: 4) {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
                case 2: bytes.remove(at: position)
                default: bytes.removeLast(bytes.count - position)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            do {
                let description = try parse(bytes)
                XCTAssertLessThanOrEqual(description.observationSpace.count, GymnasiumBridge.maximumObservationSize)
                XCTAssertTrue(zip(description.observationSpace.low, description.observationSpace.high).allSatisfy { $0 <= $1 })
            } catch {
                guard case .protocolViolation = error else { return XCTFail("\(error)") }
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 4_000, "most mutations break the layout")
    }
}

private extension UInt32 {
    var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
}
