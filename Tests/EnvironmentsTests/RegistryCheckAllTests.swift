import XCTest
@testable import Environments

/// Every registered id, the arcade games included (needs `Registry+MinAtar.swift`).
final class RegistryCheckAllTests: XCTestCase {
    static let games = ["Breakout-MinAtar", "SpaceInvaders-MinAtar", "Freeway-MinAtar",
                        "Asterix-MinAtar", "Seaquest-MinAtar"]

    func testEveryIDIsRegisteredOnce() {
        let ids = EnvironmentRegistry.builtIn.ids
        XCTAssertEqual(ids, ["CartPole-v1", "CartPole-NoVelocity-v1", "GridWorld-v0", "GridWorld-Cliff-v0",
                             "GridWorld-FourRooms-v0", "TMaze-v0", "Acrobot-v1", "MountainCar-v0",
                             "Pendulum-v1", "MountainCarContinuous-v0"]
                       + Self.games)
    }

    func testGamesHaveAGenerousLimitAndNoThreshold() throws {
        for id in Self.games {
            let spec = try EnvironmentRegistry.standard.spec(id: id)
            XCTAssertEqual(spec.maxEpisodeSteps, 10_000, id)
            XCTAssertNil(spec.rewardThreshold, id)
            let env = spec.makeEnvironment()
            XCTAssertEqual(env.actionSpace, .discrete(Discrete(6)), id)
            XCTAssertEqual(env.observationSpace.shape.prefix(2), [10, 10], id)
        }
    }

    func testEveryRegisteredEnvironmentPassesTheChecker() throws {
        for spec in EnvironmentRegistry.builtIn.specs {
            var env = spec.makeEnvironment()
            do {
                let report = try EnvironmentChecker.check(&env, seed: 3, steps: 500)
                XCTAssertEqual(report.steps, 500, spec.id)
                XCTAssertEqual(Set(report.passed + report.notExercised),
                               Set(EnvironmentChecker.Check.allCases), spec.id)
            } catch {
                XCTFail("\(spec.id): \(error)")
            }
        }
    }
}
