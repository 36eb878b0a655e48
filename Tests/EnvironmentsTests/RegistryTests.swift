import XCTest
@testable import Environments

/// The name of the concrete type behind an existential, found by opening it.
private func concreteTypeName<E: Environment>(_ environment: E) -> String { String(describing: E.self) }

final class RegistryTests: XCTestCase {
    func testClassicSpecs() throws {
        let registry = EnvironmentRegistry.standard
        XCTAssertEqual(Array(registry.ids.prefix(6)),
                       ["CartPole-v1", "CartPole-NoVelocity-v1", "GridWorld-v0", "GridWorld-Cliff-v0",
                        "GridWorld-FourRooms-v0", "TMaze-v0"])
        let cartPole = try registry.spec(id: "CartPole-v1")
        XCTAssertEqual(cartPole.maxEpisodeSteps, 500)
        XCTAssertEqual(cartPole.rewardThreshold, 475)
        let grid = try registry.spec(id: "GridWorld-v0")
        XCTAssertEqual(grid.maxEpisodeSteps, 100)
        XCTAssertEqual(grid.rewardThreshold, 1)
        XCTAssertEqual(try registry.spec(id: "GridWorld-Cliff-v0").rewardThreshold, -13)
        XCTAssertEqual(try registry.spec(id: "GridWorld-FourRooms-v0").maxEpisodeSteps, 500)
    }

    func testThresholdsOfTheGridsAreTheirOptimalReturns() throws {
        for id in ["GridWorld-v0", "GridWorld-Cliff-v0", "GridWorld-FourRooms-v0"] {
            let spec = try EnvironmentRegistry.standard.spec(id: id)
            let grid = try XCTUnwrap(spec.makeBase() as? GridWorld, id)
            XCTAssertEqual(grid.optimalReturn.map(Double.init), spec.rewardThreshold, id)
            XCTAssertLessThan(try XCTUnwrap(grid.shortestPathLength), try XCTUnwrap(spec.maxEpisodeSteps), id)
        }
    }

    func testMakeWrapsTheConcreteTypeInItsTimeLimit() throws {
        let env = try makeEnvironment(id: "CartPole-v1")
        XCTAssertEqual(concreteTypeName(env), "TimeLimit<CartPole>")
        XCTAssertEqual((env as? TimeLimit<CartPole>)?.maxEpisodeSteps, 500)
        let grid = try EnvironmentRegistry.standard.makeEnvironment(id: "GridWorld-v0")
        XCTAssertEqual(concreteTypeName(grid), "TimeLimit<GridWorld>")
        XCTAssertEqual((grid as? TimeLimit<GridWorld>)?.base.map, .small)
        XCTAssertEqual(concreteTypeName(try EnvironmentRegistry.standard.spec(id: "CartPole-v1").makeBase()), "CartPole")
    }

    /// Observation names, where an environment gives them, name every float; a grid covers
    /// the observation with whole cells.
    func testObservationNamesAndGridsFitTheObservation() throws {
        for id in EnvironmentRegistry.standard.ids where !id.hasPrefix("gymnasium:") {
            let environment = try EnvironmentRegistry.standard.makeEnvironment(id: id)
            let count = environment.observationSpace.count
            XCTAssertTrue(environment.observationNames.isEmpty || environment.observationNames.count == count, id)
            if let grid = environment.observationGrid {
                XCTAssertEqual(count % (grid.rows * grid.columns), 0, id)
                XCTAssertTrue(environment.observationNames.isEmpty, id)
            }
        }
        XCTAssertEqual(try EnvironmentRegistry.standard.makeEnvironment(id: "Pendulum-v1").observationNames,
                       ["cos θ", "sin θ", "θ velocity"])
    }

    func testUnknownIDListsTheKnownOnes() {
        XCTAssertThrowsError(try makeEnvironment(id: "CartPole-v0")) { error in
            XCTAssertEqual(error as? EnvironmentError,
                           .unknownID("CartPole-v0", known: EnvironmentRegistry.standard.ids))
            XCTAssertTrue("\(error)".contains("known ids: CartPole-v1, CartPole-NoVelocity-v1, GridWorld-v0"), "\(error)")
        }
    }

    func testRegisterAddsAndReplaces() throws {
        var registry = EnvironmentRegistry(specs: EnvironmentRegistry.classicSpecs)
        let count = registry.specs.count
        registry.register(EnvironmentSpec(
            id: "Tiny-v0", summary: "two cells", maxEpisodeSteps: nil, rewardThreshold: nil,
            makeBase: { GridWorld(map: try! GridWorld.Map(parsing: "SG")) }))
        XCTAssertEqual(registry.ids.last, "Tiny-v0")
        XCTAssertEqual(concreteTypeName(try registry.makeEnvironment(id: "Tiny-v0")), "GridWorld",
                       "no step limit, no wrapper")
        registry.register(EnvironmentSpec(
            id: "CartPole-v1", summary: "shorter", maxEpisodeSteps: 200, rewardThreshold: 195,
            makeBase: { CartPole() }))
        XCTAssertEqual(registry.specs.count, count + 1)
        XCTAssertEqual(try registry.spec(id: "CartPole-v1").maxEpisodeSteps, 200)
    }

    func testCartPoleIsTruncatedAtFiveHundredStepsByABalancingController() throws {
        var env = try makeEnvironment(id: "CartPole-v1")
        var observation = env.reset(seed: 0)
        var steps = 0
        while true {
            let action = observation[2] + 0.5 * observation[3] + 0.05 * observation[0] + 0.2 * observation[1] > 0 ? 1 : 0
            let step = try env.step(action)
            steps += 1
            observation = step.observation
            if step.isDone {
                XCTAssertTrue(step.isTruncated)
                XCTAssertFalse(step.isTerminated)
                break
            }
        }
        XCTAssertEqual(steps, 500)
    }

    func testClassicEnvironmentsPassTheChecker() throws {
        for spec in EnvironmentRegistry.classicSpecs {
            var env = spec.makeEnvironment()
            // Enough random steps to end episodes in every one (four rooms: the 500-step limit).
            let report = try EnvironmentChecker.check(&env, seed: 11, steps: 1200)
            XCTAssertEqual(report.steps, 1200, spec.id)
            XCTAssertGreaterThan(report.episodesEnded, 0, spec.id)
            XCTAssertEqual(report.notExercised, [], spec.id)
            XCTAssertEqual(report.passed, EnvironmentChecker.Check.allCases, spec.id)
        }
    }
}
