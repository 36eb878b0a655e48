import Environments
import Viewer
import XCTest

final class SceneRendererTests: XCTestCase {
    override func setUp() { useHeadlessVideo() }

    func testScaledFrameRepeatsEachPixelInABlock() {
        var frame = Frame(width: 2, height: 1)
        frame[0, 0] = Color(1, 2, 3)
        frame[1, 0] = Color(200, 100, 50)
        let scaled = frame.scaled(by: 3)
        XCTAssertEqual(scaled.width, 6)
        XCTAssertEqual(scaled.height, 3)
        for y in 0..<3 {
            for x in 0..<6 { XCTAssertEqual(scaled[x, y], x < 3 ? Color(1, 2, 3) : Color(200, 100, 50)) }
        }
    }

    /// The first frames of a seeded episode of every registered environment: the canvas's
    /// frame area is the environment's own frame, enlarged by nearest neighbour, pixel for
    /// pixel, and the panel's numbers are the episode's, counted by an independent replay.
    func testFrameAreaAndPanelMatchEveryRegisteredEnvironment() throws {
        let seed: UInt64 = 7
        for spec in EnvironmentRegistry.builtIn.specs {
            var reference = spec.makeEnvironment()
            _ = reference.reset(seed: seed)
            let environment = spec.makeEnvironment()
            let session = EpisodeSession(
                environment: environment,
                advisor: RandomAdvisor(actionSpace: environment.actionSpace, seed: seed), seed: seed)
            let first = reference.render()
            let renderer = try SceneRenderer(
                frameWidth: first.width, frameHeight: first.height, actionCount: environment.actionSpace.width)
            let layout = renderer.layout
            XCTAssertEqual(layout.frameRect.width, first.width * layout.scale, spec.id)
            if spec.id.hasSuffix("MinAtar") { XCTAssertEqual(layout.scale, 3, spec.id) }  // 160 px → 480 px
            if spec.id == "CartPole-v1" { XCTAssertEqual(layout.scale, 1) }  // 600×400 as is

            var expectedReturn = 0.0
            var lastAction: Int?
            var lastValues: [Float]?
            let box = environment.actionSpace.box
            for step in 0...6 {
                let panel = PanelModel(session: session, title: spec.id, status: "test", help: [])
                let canvas = renderer.render(frame: session.render(), panel: panel)
                XCTAssertEqual(canvas.width, layout.canvasWidth)
                XCTAssertEqual(canvas.height, layout.canvasHeight)
                let area = canvas.cropped(
                    x: layout.frameRect.x, y: layout.frameRect.y,
                    width: layout.frameRect.width, height: layout.frameRect.height)
                assertFramesEqual(area, reference.render().scaled(by: layout.scale), "\(spec.id) step \(step)")
                // Nearest neighbour, checked directly on a few pixels as well.
                let own = reference.render()
                for (x, y) in [(0, 0), (own.width - 1, own.height - 1), (own.width / 2, own.height / 3)] {
                    XCTAssertEqual(
                        canvas[layout.frameRect.x + x * layout.scale + layout.scale - 1,
                               layout.frameRect.y + y * layout.scale],
                        own[x, y], "\(spec.id) (\(x), \(y))")
                }

                XCTAssertEqual(panel.episode, 1, spec.id)
                XCTAssertEqual(panel.step, step, spec.id)
                XCTAssertEqual(panel.episodeReturn, expectedReturn, spec.id)
                let lastName = box == nil
                    ? lastAction.map { environment.actionNames[$0] }
                    : lastValues.map { "[" + $0.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]" }
                XCTAssertEqual(panel.lastActionName, lastName, spec.id)
                XCTAssertEqual(panel.statLines.map(\.value),
                               ["1", "\(step)", PanelModel.format(expectedReturn), lastName ?? "–"])
                XCTAssertEqual(panel.rows.map(\.name), environment.actionNames)
                if step > 0, let box, let values = lastValues {
                    // A random continuous player: each bar filled to where its value lies in the bounds.
                    for (j, row) in panel.rows.enumerated() {
                        let expected = Double((values[j] - box.low[j]) / (box.high[j] - box.low[j]))
                        XCTAssertEqual(row.markerFraction!, expected, accuracy: 1e-6, spec.id)
                        XCTAssertNil(row.spreadFraction, "a random player has no spread")
                        XCTAssertEqual(row.scoreText, String(format: "%.2f", values[j]), spec.id)
                    }
                } else if step > 0 {
                    // A random policy: uniform probabilities, the played action highlighted.
                    let uniform = 1 / Double(environment.actionSpace.width)
                    for row in panel.rows { XCTAssertEqual(row.barFraction!, uniform, accuracy: 1e-6) }
                    XCTAssertEqual(panel.rows.filter(\.isChosen).map(\.name), [environment.actionNames[lastAction!]])
                }
                if session.isEpisodeOver { break }
                try session.advance()
                let advice = session.lastAdvice!
                let result = box == nil ? try reference.step(advice.action) : try reference.step(advice.values)
                expectedReturn += Double(result.reward)
                lastAction = advice.action
                lastValues = advice.values
                XCTAssertEqual(session.observation, result.observation, spec.id)
            }
        }
    }

    /// Bars are drawn `p` (probabilities) or `|q| / max|q|` (values) of their track long,
    /// the chosen action in the highlight colour and negative values in their own colour.
    func testRenderedBarLengthsAreProportionalToTheScores() throws {
        let cases: [Advice] = [
            Advice(action: 4, scores: [0.05, 0.1, 0.15, 0.2, 0.3, 0.2], kind: .probabilities),
            Advice(action: 1, scores: [2, -4, 1, 0, 3, -0.5], kind: .values),
        ]
        for advice in cases {
            let environment = try makeEnvironment(id: "Breakout-MinAtar")
            let session = EpisodeSession(environment: environment, advisor: ScriptedAdvisor(advice: [advice]), seed: 0)
            try session.advance()
            let renderer = try SceneRenderer(frameWidth: 160, frameHeight: 160, actionCount: 6)
            let panel = PanelModel(session: session, title: "bars", status: "", help: [])
            let canvas = renderer.render(frame: session.render(), panel: panel)
            let largest = advice.scores.map { abs($0) }.max()!
            for (i, score) in advice.scores.enumerated() {
                let fraction = advice.kind == .probabilities ? Double(score) : Double(abs(score) / largest)
                let expected = Int((fraction * Double(ViewerLayout.barWidth)).rounded())
                let track = renderer.layout.barTrack(i)
                let y = track.y + track.height / 2
                var filled = 0
                while filled < track.width, canvas[track.x + filled, y] != SceneRenderer.Palette.barTrack { filled += 1 }
                XCTAssertEqual(filled, expected, "\(advice.kind) action \(i)")
                let color: Color = i == advice.action ? SceneRenderer.Palette.chosen
                    : score < 0 ? SceneRenderer.Palette.negativeBar : SceneRenderer.Palette.bar
                if filled > 0 { XCTAssertEqual(canvas[track.x, y], color, "action \(i)") }
                if filled < track.width { XCTAssertEqual(canvas[track.x + track.width - 1, y], SceneRenderer.Palette.barTrack) }
            }
            XCTAssertEqual(panel.rows.map(\.isChosen), (0..<6).map { $0 == advice.action })
            XCTAssertEqual(panel.scoresHeading, advice.kind == .values ? "Q-values" : "Policy")
        }
    }

    func testPanelModelFormatsScoresAndNumbers() throws {
        let advice = Advice(action: 0, scores: [2, -4], kind: .values)
        let environment = try makeEnvironment(id: "CartPole-v1")
        let session = EpisodeSession(environment: environment, advisor: ScriptedAdvisor(advice: [advice]), seed: 0)
        var panel = PanelModel(session: session, title: "t", status: "", help: [])
        XCTAssertNil(panel.lastActionName)
        XCTAssertEqual(panel.statLines.map(\.value), ["1", "0", "0", "–"])
        XCTAssertEqual(panel.rows.map(\.barFraction), [nil, nil])
        try session.advance()
        try session.advance()
        panel = PanelModel(session: session, title: "t", status: "", help: [])
        XCTAssertEqual(panel.statLines.map(\.value), ["1", "2", "2", "left"])
        XCTAssertEqual(panel.rows.map(\.barFraction), [0.5, 1])
        XCTAssertEqual(panel.rows.map(\.isNegative), [false, true])
        XCTAssertEqual(panel.rows.map(\.scoreText), ["2.00", "-4.00"])
        XCTAssertEqual(PanelModel.format(2.5), "2.50")
        XCTAssertEqual(PanelModel.format(-100), "-100")
        session.startNextEpisode()
        panel = PanelModel(session: session, title: "t", status: "", help: [])
        XCTAssertEqual(panel.statLines.map(\.value), ["2", "0", "0", "–"])
    }

    func testAdviceThatDoesNotFitTheActionSpaceIsRefused() throws {
        let environment = try makeEnvironment(id: "CartPole-v1")
        let outOfRange = EpisodeSession(
            environment: environment, advisor: ScriptedAdvisor(advice: [.choice(2)]), seed: 0)
        XCTAssertThrowsError(try outOfRange.advance()) { error in
            XCTAssertTrue("\(error)".contains("0...1"), "\(error)")
        }
        let wrongCount = EpisodeSession(
            environment: environment,
            advisor: ScriptedAdvisor(advice: [Advice(action: 0, scores: [1], kind: .probabilities)]), seed: 0)
        XCTAssertThrowsError(try wrongCount.advance())
        XCTAssertEqual(wrongCount.step, 0)
    }

    func testLetterboxKeepsTheAspectRatioCentred() {
        XCTAssertEqual(letterbox((900, 400), in: (900, 400)), PixelRect(x: 0, y: 0, width: 900, height: 400))
        XCTAssertEqual(letterbox((900, 400), in: (1800, 1000)), PixelRect(x: 0, y: 100, width: 1800, height: 800))
        XCTAssertEqual(letterbox((900, 400), in: (900, 800)), PixelRect(x: 0, y: 200, width: 900, height: 400))
        XCTAssertEqual(letterbox((900, 400), in: (1000, 400)), PixelRect(x: 50, y: 0, width: 900, height: 400))
    }

    func testMissingFontNamesThePackage() {
        XCTAssertThrowsError(try TextRenderer(fontPath: "/nonexistent/DejaVuSans.ttf")) { error in
            XCTAssertEqual(error as? ViewerError, .fontMissing(path: "/nonexistent/DejaVuSans.ttf"))
            XCTAssertTrue("\(error)".contains("fonts-dejavu-core"))
        }
    }
}
