import XCTest
@testable import Environments

/// A counter that survives copies, to make an environment nondeterministic on purpose.
private final class SharedCounter { var value = 0 }

/// A five-step corridor with one deliberate flaw at a time.
private struct Corridor: Environment {
    enum Flaw { case none, stepsBeforeReset, leavesBoxAtStep3, skipsAnElement, acceptsInvalidActions,
                stepsAfterEnd, driftingReset, driftingReward, wrongActionNames, growingFrame, throwsMidEpisode }

    var flaw: Flaw = .none
    var position = 0
    var isRunning = false
    var hasEnded = false
    var renders = 0
    let counter = SharedCounter()

    var observationSpace: Box { Box(low: 0, high: 1, shape: [2]) }
    var actionSpace: ActionSpace { .discrete(Discrete(2)) }
    var actionNames: [String] { flaw == .wrongActionNames ? ["only one"] : ["stay", "walk"] }

    mutating func reset(seed: UInt64?, into observation: UnsafeMutableBufferPointer<Float>) {
        position = 0
        isRunning = true
        hasEnded = false
        counter.value += 1
        write(into: observation)
        if flaw == .driftingReset, counter.value > 1 { observation[1] = 0.5 }
    }

    mutating func step(_ action: Int, into observation: UnsafeMutableBufferPointer<Float>)
        throws(EnvironmentError) -> StepOutcome
    {
        if !isRunning, !hasEnded, flaw != .stepsBeforeReset { throw .notReset }
        if hasEnded, flaw != .stepsAfterEnd { throw .episodeEnded }
        if !(0..<2).contains(action), flaw != .acceptsInvalidActions { throw .invalidAction(action, count: 2) }
        if flaw == .throwsMidEpisode, position == 2 { throw .episodeEnded }
        position += 1  // every action walks, so episodes last five steps
        let isTerminated = position >= 5
        if isTerminated { hasEnded = true; isRunning = false }
        write(into: observation)
        if flaw == .leavesBoxAtStep3, position == 3 { observation[0] = 1.5 }
        if flaw == .skipsAnElement, position == 2 { observation[1] = .nan }  // as if never written
        var reward: Float = 1
        if flaw == .driftingReward { counter.value += 1; reward = counter.value > 1000 ? 2 : 1 }
        return StepOutcome(reward: reward, isTerminated: isTerminated)
    }

    func write(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(position) / 5
        observation[1] = 1
    }

    func render() -> Frame {
        let grows = flaw == .growingFrame
        return Frame(width: grows ? 5 + position : 5, height: 1)
    }
}

final class EnvironmentCheckerTests: XCTestCase {
    private func failure(_ flaw: Corridor.Flaw, steps: Int = 20) -> EnvironmentChecker.Failure? {
        var env = Corridor(flaw: flaw)
        do throws(EnvironmentChecker.Failure) {
            _ = try EnvironmentChecker.check(&env, seed: 1, steps: steps)
            return nil
        } catch {
            return error
        }
    }

    func testACorrectEnvironmentPasses() throws {
        var env = Corridor()
        let report = try EnvironmentChecker.check(&env, seed: 1, steps: 20)
        XCTAssertEqual(report.steps, 20)
        XCTAssertEqual(report.episodesEnded, 4)
        XCTAssertEqual(report.passed, EnvironmentChecker.Check.allCases)
        XCTAssertEqual(report.notExercised, [])
    }

    func testAnEnvironmentThatNeverEndsCannotExerciseTheEndContract() throws {
        var env = Corridor()
        let report = try EnvironmentChecker.check(&env, seed: 1, steps: 4)
        XCTAssertEqual(report.episodesEnded, 0)
        XCTAssertEqual(report.notExercised, [.stepAfterEnd])
        XCTAssertFalse(report.passed.contains(.stepAfterEnd))
    }

    func testEachFlawIsNamedWithItsStep() {
        let expectations: [(Corridor.Flaw, EnvironmentChecker.Check, Int?)] = [
            (.wrongActionNames, .actionNames, nil),
            (.stepsBeforeReset, .stepBeforeReset, nil),
            (.leavesBoxAtStep3, .observationInSpace, 3),
            (.skipsAnElement, .observationInSpace, 2),
            (.acceptsInvalidActions, .invalidAction, 1),
            (.stepsAfterEnd, .stepAfterEnd, 5),
            (.driftingReset, .resetDeterminism, 0),
            (.throwsMidEpisode, .validAction, 3),
            (.growingFrame, .frameSize, 5),
        ]
        for (flaw, check, step) in expectations {
            let found = failure(flaw)
            XCTAssertEqual(found?.check, check, "\(flaw)")
            XCTAssertEqual(found?.step, step, "\(flaw)")
        }
    }

    func testNondeterministicStepsAreCaughtAtTheFirstDifference() throws {
        // The shared counter goes up once per reset and once per step, and the reward
        // becomes 2 once it passes 1000. The first run (600 steps, episodes of 5) leaves it
        // at 120 resets + 600 steps = 720, below 1000, so the first run sees only rewards
        // of 1; the second run starts at 721 and crosses 1000 part way through.
        var counter = 721
        var expected = 0
        for t in 1...600 {
            if t > 1, (t - 1) % 5 == 0 { counter += 1 }  // the reset before steps 6, 11, ...
            counter += 1
            if counter > 1000 { expected = t; break }
        }
        XCTAssertEqual(expected, 234)

        var env = Corridor(flaw: .driftingReward)
        do throws(EnvironmentChecker.Failure) {
            _ = try EnvironmentChecker.check(&env, seed: 1, steps: 600)
            XCTFail("expected a determinism failure")
        } catch {
            XCTAssertEqual(error.check, .stepDeterminism)
            XCTAssertEqual(error.step, expected)
            XCTAssertTrue(error.description.hasPrefix("environment check 'step determinism' failed at step 234:"),
                          error.description)
        }
    }

    func testFailureMessagesNameTheCheckAndTheStep() throws {
        let found = try XCTUnwrap(failure(.leavesBoxAtStep3))
        XCTAssertTrue(found.description.hasPrefix("environment check 'observation in space' failed at step 3: element 0 = 1.5 after step("),
                      found.description)
        XCTAssertTrue(found.description.hasSuffix(") is outside [0.0, 1.0]"), found.description)
        let unwritten = try XCTUnwrap(failure(.skipsAnElement))
        XCTAssertTrue(unwritten.message.contains("element 1 is NaN or was not written"), unwritten.message)
    }

    func testChecksAnExistentialEnvironment() throws {
        var env: any Environment = CartPole()
        let report = try EnvironmentChecker.check(&env, seed: 5, steps: 200)
        XCTAssertGreaterThan(report.episodesEnded, 0)
        XCTAssertEqual(report.passed, EnvironmentChecker.Check.allCases)
    }
}
