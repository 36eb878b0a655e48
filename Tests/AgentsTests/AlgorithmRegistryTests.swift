import Environments
import Foundation
import XCTest
@testable import Agents

/// The algorithm table: every entry is complete and consistent with its agent.
final class AlgorithmRegistryTests: XCTestCase {
    private let registry = AlgorithmRegistry.standard
    private static let names = ["ppo", "recurrent_ppo", "dqn", "a2c", "reinforce", "sac", "td3"]

    /// Discrete learners are tuned for CartPole-v1, continuous ones for Pendulum-v1; the
    /// learner with memory for the two tasks that need memory instead.
    func testEveryAlgorithmHasAPresetForTheFirstTaskOfItsKind() {
        for spec in registry.specs {
            if spec.name == "recurrent_ppo" {
                for id in PresetEnvironments.cartPoleNoVelocity + PresetEnvironments.tMaze {
                    XCTAssertNotNil(spec.preset(for: id), "\(spec.name) has no preset for \(id)")
                }
                continue
            }
            if spec.actionKinds.contains(.discrete) {
                XCTAssertNotNil(spec.preset(for: "CartPole-v1"), "\(spec.name) has no preset for CartPole-v1")
            }
            if spec.actionKinds.contains(.continuous) {
                XCTAssertNotNil(spec.preset(for: "Pendulum-v1"), "\(spec.name) has no preset for Pendulum-v1")
            }
        }
    }

    /// A preset names only registered environments, each at most once per algorithm, and
    /// validates for its own number of copies; so do the fallback and the small settings.
    func testPresetsAreValidAndNameRegisteredEnvironments() throws {
        let known = Set(EnvironmentRegistry.builtIn.ids)
        for spec in registry.specs {
            var seen: Set<String> = []
            for preset in spec.presets {
                XCTAssertFalse(preset.environments.isEmpty, "\(spec.name): a preset for no environment")
                for id in preset.environments {
                    XCTAssertTrue(known.contains(id), "\(spec.name): preset for unknown environment \(id)")
                    XCTAssertTrue(seen.insert(id).inserted, "\(spec.name): two presets for \(id)")
                }
                XCTAssertNoThrow(try preset.configuration.validate(copies: preset.copies), "\(spec.name)")
                XCTAssertGreaterThan(preset.steps, 0)
                XCTAssertGreaterThan(preset.checkpointInterval, 0)
            }
            XCTAssertTrue(spec.fallback.environments.isEmpty)
            XCTAssertNoThrow(try spec.fallback.configuration.validate(copies: spec.fallback.copies))
            XCTAssertNoThrow(try spec.smallConfiguration.validate(copies: 2))
            XCTAssertTrue(spec.startingPoint(for: "NotRegistered-v0").configuration.isEqual(to: spec.fallback.configuration))
        }
    }

    func testNamesAreUniqueAndMatchTheAgents() throws {
        XCTAssertEqual(registry.names, Self.names)
        XCTAssertEqual(try registry.spec(named: "dqn").metricKeys, DQN.metricKeys)
        XCTAssertEqual(try registry.spec(named: "ppo").optionalKeys, ["target_kl", "learning_rate_schedule"])
        for spec in registry.specs {
            let environment: any Environment = spec.actionKinds.contains(.discrete) ? CartPole() : Pendulum()
            let agent = try spec.makeAgent(spec.defaultConfiguration, context: AgentContext(
                observationSpace: environment.observationSpace, actionSpace: environment.actionSpace, copies: 4,
                totalSteps: 1_000, seed: 0))
            XCTAssertEqual(type(of: agent).algorithm, spec.name)
        }
    }

    func testUnknownNamesListTheKnownOnes() {
        XCTAssertThrowsError(try registry.spec(named: "sarsa")) { error in
            XCTAssertEqual("\(error)", "unknown algorithm 'sarsa'; known algorithms: \(Self.names.joined(separator: ", "))")
        }
    }

    /// A configuration of another algorithm is refused, not cast or ignored.
    func testTheFactoryRefusesAnotherAlgorithmsSettings() throws {
        let ppo = try registry.spec(named: "ppo")
        XCTAssertThrowsError(try ppo.makeAgent(DQN.Configuration(), context: AgentContext(
            observationSpace: CartPole().observationSpace, actionCount: 2, copies: 1, totalSteps: 10, seed: 0)))
    }

    /// Settings travel through a config section and back unchanged, through the entry's decoder.
    func testConfigurationsRoundTripThroughTheirEntry() throws {
        for spec in registry.specs {
            for preset in spec.presets {
                let data = try JSONEncoder().encode(preset.configuration)
                let decoded = try spec.decodeConfiguration(from: JSONDecoder().decode(DecoderBox.self, from: data).decoder)
                XCTAssertTrue(decoded.isEqual(to: preset.configuration), "\(spec.name) \(preset.environments)")
            }
        }
    }
}

/// Captures the decoder JSONDecoder hands to a type, to decode through a registry entry.
private struct DecoderBox: Decodable {
    let decoder: any Decoder
    init(from decoder: any Decoder) throws { self.decoder = decoder }
}
