import XCTest
@testable import Autodiff

final class ShapeErrorTests: XCTestCase {
    func testMismatchedShapesNameBothShapes() {
        XCTAssertThrowsError(try Tensor.broadcastShape([3, 4], [2, 4], op: "+")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("[3, 4]") && message.contains("[2, 4]"), message)
            XCTAssertTrue(message.contains("+"), message)
        }
        XCTAssertEqual(try Tensor.broadcastShape([3, 1], [1, 4]), [3, 4])
        XCTAssertEqual(try Tensor.broadcastShape([], [2, 3]), [2, 3])
        XCTAssertEqual(try Tensor.broadcastShape([5, 1, 3], [4, 1]), [5, 4, 3])
    }
}
