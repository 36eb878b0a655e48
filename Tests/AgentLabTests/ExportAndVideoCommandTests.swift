import Foundation
import XCTest

/// `export`, `record --out *.mp4` and `--saliency` from the command line: what they write,
/// and the messages and exit statuses of what they refuse.
final class ExportAndVideoCommandTests: CommandLineTestCase {
    private func trainSmallRun(_ name: String, algorithm: String = "ppo", environment: String = "CartPole-v1",
                               steps: String = "512") throws -> String {
        let result = try agentlab("train", "--env", environment, "--algo", algorithm, "--steps", steps,
                                  "--threads", "1", "--out", path(name))
        XCTAssertEqual(result.status, 0, result.error)
        return path(name)
    }

    func testExportWritesAModelAndSamples() throws {
        let run = try trainSmallRun("ppo")
        let result = try agentlab("export", run, "--out", path("policy.onnx"), "--samples", "7")
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.output.contains("observations → probabilities (2 per observation)"), result.output)
        XCTAssertTrue(result.output.contains("wrote 7 observations"), result.output)
        let samples = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: path("policy.samples.json")))) as? [String: Any]
        XCTAssertEqual((samples?["observations"] as? [[Double]])?.count, 7)
        XCTAssertEqual(samples?["output"] as? String, "probabilities")
        // The event file sits beside metrics.csv.
        let names = try FileManager.default.contentsOfDirectory(atPath: run)
        XCTAssertEqual(names.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1, "\(names)")
    }

    /// An agent with memory exports one step, and its samples mark where episodes start.
    func testARecurrentRunExportsWithItsState() throws {
        let recurrent = try agentlab(
            "train", "--env", "TMaze-v0", "--algo", "recurrent_ppo", "--steps", "1024", "--threads", "1",
            "--out", path("memory"))
        XCTAssertEqual(recurrent.status, 0, recurrent.error)
        let result = try agentlab("export", path("memory"), "--out", path("memory.onnx"), "--samples", "30")
        XCTAssertEqual(result.status, 0, result.error)
        let samples = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: path("memory.samples.json")))) as? [String: Any]
        XCTAssertEqual(samples?["state_width"] as? Int, 128, "the default LSTM of 64: h then c")
        let starts = try XCTUnwrap(samples?["episode_starts"] as? [Bool])
        XCTAssertEqual(starts.count, 30)
        XCTAssertEqual(starts.first, true)
    }

    func testExportRefusesWhatItCannotWrite() throws {
        let run = try trainSmallRun("ppo")
        var result = try agentlab("export", run, "--out", path("missing/policy.onnx"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("does not exist"), result.error)
        result = try agentlab("export", run, "--out", path("x.onnx"), "--format", "tflite")
        XCTAssertEqual(result.status, 2)
        result = try agentlab("export", path("nowhere"), "--out", path("x.onnx"))
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("no such run folder"), result.error)
    }

    func testRecordingAVideoWithSaliency() throws {
        let run = try trainSmallRun("ppo")
        var result = try agentlab("record", run, "--out", path("cartpole.mp4"), "--max-steps", "20", "--saliency")
        XCTAssertEqual(result.status, 0, result.error)
        // A frame after the reset and one per step, the last held 1 s at 50 frames/s: 49 more.
        let length = try XCTUnwrap(result.output.firstMatch(of: /length (\d+)/).map { Int($0.1)! })
        XCTAssertTrue(result.output.contains("wrote \(length + 50) frames"), result.output)
        XCTAssertTrue(result.output.contains("H.264 MP4 at 50 frames/s"), result.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("cartpole.mp4")))

        result = try agentlab("record", "CartPole-v1", "--out", path("random.mp4"), "--saliency")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.error.contains("--saliency needs a run folder"), result.error)
    }
}
