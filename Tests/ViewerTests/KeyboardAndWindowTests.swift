import CSDL2
import Environments
import Foundation
import Viewer
import XCTest

final class KeyboardAdvisorTests: XCTestCase {
    func testCartPoleRepeatsTheLastPushWhenNoKeyIsHeld() {
        let keyboard = KeyboardAdvisor(actionNames: ["left", "right"])
        XCTAssertEqual(keyboard.bindings, [.left: 0, .right: 1])
        XCTAssertEqual(keyboard.idle, .repeatLast)
        XCTAssertFalse(keyboard.isReady)  // each episode waits for the first key
        XCTAssertEqual(keyboard.advise([]).action, 0)
        keyboard.press(.right)
        XCTAssertTrue(keyboard.isReady)
        XCTAssertEqual(keyboard.advise([]).action, 1)
        keyboard.release(.right)
        XCTAssertEqual(keyboard.advise([]).action, 1)
        keyboard.press(.up)  // not an action here
        XCTAssertEqual(keyboard.advise([]).action, 1)
        XCTAssertTrue(keyboard.isReady)
        XCTAssertEqual(keyboard.keyLabel(for: 1), "→")
        keyboard.episodeDidStart()
        XCTAssertFalse(keyboard.isReady)
    }

    func testMinAtarPlaysNoOpWhenIdleAndNeverLosesATap() {
        let keyboard = KeyboardAdvisor(actionNames: MinAtarAction.allCases.map(\.name))
        XCTAssertEqual(keyboard.idle, .action(0))
        XCTAssertFalse(keyboard.isReady)
        XCTAssertEqual(keyboard.bindings, [.left: 1, .up: 2, .right: 3, .down: 4, .space: 5])
        XCTAssertEqual(keyboard.advise([]), .choice(0))
        keyboard.press(.left)
        XCTAssertTrue(keyboard.isReady)
        keyboard.press(.space)  // the later key wins while both are held
        XCTAssertEqual(keyboard.advise([]).action, 5)
        keyboard.release(.space)
        XCTAssertEqual(keyboard.advise([]).action, 1)
        keyboard.release(.left)
        XCTAssertEqual(keyboard.advise([]).action, 0)
        keyboard.press(.down)
        keyboard.release(.down)  // a tap between two steps is still played, once
        XCTAssertEqual(keyboard.advise([]).action, 4)
        XCTAssertEqual(keyboard.advise([]).action, 0)
    }

    func testTurnBasedPlayStepsOncePerPress() {
        let keyboard = KeyboardAdvisor(actionNames: ["up", "right", "down", "left"], idle: .wait)
        XCTAssertFalse(keyboard.isReady)
        keyboard.press(.down)
        keyboard.release(.down)
        keyboard.press(.left)
        XCTAssertTrue(keyboard.isReady)
        XCTAssertEqual(keyboard.advise([]).action, 2)
        XCTAssertEqual(keyboard.advise([]).action, 3)
        XCTAssertFalse(keyboard.isReady)
    }

    func testSpeedsStepThroughTheList() {
        XCTAssertEqual(nextPlaybackSpeed(after: 15, faster: true), 20)
        XCTAssertEqual(nextPlaybackSpeed(after: 15, faster: false), 10)
        XCTAssertEqual(nextPlaybackSpeed(after: 25, faster: true), 30)
        XCTAssertEqual(nextPlaybackSpeed(after: 960, faster: true), 960)
        XCTAssertEqual(nextPlaybackSpeed(after: 1, faster: false), 1)
    }
}

final class WindowTests: XCTestCase {
    func testMissingDisplayIsExplainedWithRecordSuggested() throws {
        #if os(Linux)
        let message = try XCTUnwrap(missingDisplayMessage(environment: [:], command: "agentlab play"))
        XCTAssertTrue(message.contains("needs a display"))
        XCTAssertTrue(message.contains("agentlab record"))
        XCTAssertNil(missingDisplayMessage(environment: ["DISPLAY": ":0"], command: "agentlab play"))
        XCTAssertNil(missingDisplayMessage(environment: ["WAYLAND_DISPLAY": "wayland-0"], command: "agentlab play"))
        XCTAssertNil(missingDisplayMessage(environment: ["SDL_VIDEODRIVER": "offscreen"], command: "agentlab play"))
        XCTAssertNotNil(missingDisplayMessage(environment: ["SDL_VIDEODRIVER": "x11"], command: "agentlab play"))
        #endif
    }

    private func push(key: SDL_KeyCode, type: SDL_EventType = SDL_KEYDOWN) {
        var event = SDL_Event()
        event.key.type = type.rawValue
        event.key.state = UInt8(type == SDL_KEYDOWN ? SDL_PRESSED : SDL_RELEASED)
        event.key.keysym.sym = SDL_Keycode(bitPattern: key.rawValue)
        XCTAssertEqual(SDL_PushEvent(&event), 1, String(cString: SDL_GetError()))
    }

    /// The real event loop under SDL's offscreen driver (no window on any screen): keys
    /// queued before it starts are answered, s saves a screenshot of the canvas, q quits.
    func testWindowLoopAnswersKeysSavesAScreenshotAndQuits() throws {
        useHeadlessVideo()
        XCTAssertEqual(SDL_InitSubSystem(SDL_INIT_VIDEO), 0, String(cString: SDL_GetError()))
        defer { SDL_QuitSubSystem(SDL_INIT_VIDEO) }
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        push(key: SDLK_SPACE)  // pause
        push(key: SDLK_s)
        push(key: SDLK_q)
        let environment = try makeEnvironment(id: "Breakout-MinAtar")
        let summary = try watchEpisodes(
            environment: environment, advisor: RandomAdvisor(actionCount: 6, seed: 0),
            options: WatchOptions(title: "Breakout-MinAtar", screenshotDirectory: folder))
        XCTAssertEqual(summary.screenshots.count, 1)
        let shot = try PNGFile.read(summary.screenshots[0])
        let layout = ViewerLayout(frameWidth: 160, frameHeight: 160, scale: 3, actionCount: 6)
        XCTAssertEqual(shot.width, layout.canvasWidth)
        XCTAssertEqual(shot.height, layout.canvasHeight)
        // Paused before any step: the screenshot shows the first frame of the episode.
        var fresh = try makeEnvironment(id: "Breakout-MinAtar")
        _ = fresh.reset(seed: 0)
        let area = shot.cropped(
            x: layout.frameRect.x, y: layout.frameRect.y, width: layout.frameRect.width, height: layout.frameRect.height)
        assertFramesEqual(area, fresh.render().scaled(by: 3))
    }

    func testClosingTheWindowEndsTheLoop() throws {
        useHeadlessVideo()
        XCTAssertEqual(SDL_InitSubSystem(SDL_INIT_VIDEO), 0, String(cString: SDL_GetError()))
        defer { SDL_QuitSubSystem(SDL_INIT_VIDEO) }
        var quit = SDL_Event()
        quit.type = SDL_QUIT.rawValue
        XCTAssertEqual(SDL_PushEvent(&quit), 1)
        let keyboard = KeyboardAdvisor(actionNames: ["left", "right"])
        let summary = try watchEpisodes(
            environment: try makeEnvironment(id: "CartPole-v1"), advisor: keyboard,
            options: WatchOptions(title: "CartPole-v1", restartsAutomatically: false))
        XCTAssertEqual(summary.episodes, [])
        XCTAssertEqual(summary.screenshots, [])
    }
}
