import Environments
import Viewer
import XCTest

final class SaliencyViewTests: XCTestCase {
    /// Grid observations: each cell shows the largest of its channels' magnitudes, scaled
    /// so the strongest cell is 1.
    func testGridSaliencyTakesEachCellsStrongestChannel() {
        // 2 × 2 cells of 2 channels: cell maxima 0.5, 2, 1, 0 (|−2| counts as 2).
        let values: [Float] = [0.5, 0.25, -2, 1, 0, 1, 0, 0]
        XCTAssertEqual(PanelModel.Saliency(values, grid: ObservationGrid(rows: 2, columns: 2)),
                       .grid(rows: 2, columns: 2, values: [0.25, 1, 0.5, 0]))
    }

    /// Vector observations: one bar per float, scaled by the largest, with its value.
    func testVectorSaliencyIsOneBarPerComponent() {
        guard case .components(let rows) = PanelModel.Saliency([1, 4, 2], grid: nil) else {
            return XCTFail("a vector gives bars")
        }
        XCTAssertEqual(rows.map(\.name), ["obs 0", "obs 1", "obs 2"])
        guard case .components(let named) = PanelModel.Saliency([1, 4, 2], grid: nil, names: ["x", "y"]) else {
            return XCTFail("a vector gives bars")
        }
        XCTAssertEqual(named.map(\.name), ["x", "y", "obs 2"])
        XCTAssertEqual(rows.map(\.barFraction), [0.25, 1, 0.5])
        XCTAssertEqual(rows.map(\.scoreText), ["1", "4", "2"])
        guard case .components(let many) = PanelModel.Saliency([Float](repeating: 1, count: 40), grid: nil) else {
            return XCTFail("a vector gives bars")
        }
        XCTAssertEqual(many.count, SceneRenderer.maximumSaliencyRows)
    }

    /// The tint blends each cell toward the colour by 0.8 × its value: a cell at 1 on
    /// (100, 100, 100) toward (255, 64, 160) becomes 100·0.2 + 255·0.8 = 224, 20 + 51.2 =
    /// 71.2 → 71, 20 + 128 = 148; a cell at 0.5 becomes 100·0.6 + 255·0.4 = 162, 60 + 25.6 =
    /// 85.6 → 86, 60 + 64 = 124; a cell at 0 keeps its colour.
    func testTintBlendsByTheCellsValue() {
        var frame = Frame(width: 4, height: 2, fill: Color(100, 100, 100))
        frame.tint(PixelRect(x: 0, y: 0, width: 4, height: 2), rows: 1, columns: 2, by: [1, 0.5],
                   toward: Color(255, 64, 160))
        XCTAssertEqual(frame[0, 0], Color(224, 71, 148))
        XCTAssertEqual(frame[1, 1], Color(224, 71, 148))
        XCTAssertEqual(frame[2, 0], Color(162, 86, 124))
        frame.tint(PixelRect(x: 0, y: 0, width: 4, height: 2), rows: 1, columns: 2, by: [0, 0],
                   toward: Color(255, 64, 160))
        XCTAssertEqual(frame[3, 1], Color(162, 86, 124), "a value of 0 changes nothing")
    }

    /// The arcade games and the grid worlds lay their observations over the frame; CartPole
    /// does not.
    func testEnvironmentsSayWhereTheirObservationsLie() throws {
        XCTAssertEqual(try makeEnvironment(id: "Breakout-MinAtar").observationGrid, ObservationGrid(rows: 10, columns: 10))
        XCTAssertEqual(try makeEnvironment(id: "GridWorld-v0").observationGrid, ObservationGrid(rows: 5, columns: 5))
        XCTAssertNil(try makeEnvironment(id: "CartPole-v1").observationGrid)
        XCTAssertEqual(try makeEnvironment(id: "CartPole-v1").observationNames, ["x", "x velocity", "θ", "θ velocity"])
    }
}
