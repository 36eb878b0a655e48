import SeededRandom
import XCTest
@testable import Sweeps

final class TrialTableTests: XCTestCase {
    func testCSVQuotesAndReadsBack() throws {
        let rows = [["a", "b,c", "say \"hi\""], ["1", "", "two\nlines"]]
        let text = CSV.text(header: ["x", "y", "z"], rows: rows)
        XCTAssertEqual(text, "x,y,z\na,\"b,c\",\"say \"\"hi\"\"\"\n1,,\"two\nlines\"\n")
        XCTAssertEqual(try CSV.rows(text, name: "t"), [["x", "y", "z"]] + rows)
    }

    func testCSVRefusesRaggedAndUnclosedTables() {
        XCTAssertThrowsError(try CSV.rows("a,b\n1,2,3\n", name: "t.csv")) { error in
            XCTAssertEqual("\(error)", "cannot read t.csv as a CSV table: line 2 has 3 fields; the header has 2")
        }
        XCTAssertThrowsError(try CSV.rows("a,b\n\"1,2\n", name: "t.csv"))
    }

    func testCSVFuzzNeverCrashes() {
        let valid = CSV.text(header: ["trial", "status", "objective"], rows: [["c000-s0", "done", "1.5"], ["c001-s0", "failed", ""]])
        var generator = SeededGenerator(seed: 11)
        let alphabet = Array("\",\n\r a1é".unicodeScalars)
        for _ in 0..<3_000 {
            var scalars = Array(valid.unicodeScalars)
            for _ in 0..<(1 + generator.int(below: 4)) {
                let i = generator.int(below: scalars.count + 1)
                switch generator.int(below: 3) {
                case 0 where i < scalars.count: scalars.remove(at: i)
                case 1: scalars.insert(alphabet[generator.int(below: alphabet.count)], at: i)
                default: scalars = Array(scalars.prefix(i))
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            if let rows = try? CSV.rows(text, name: "fuzz") {
                XCTAssertTrue(rows.allSatisfy { $0.count == rows[0].count })
                _ = try? TrialTable.readTrials(text, name: "fuzz")
            }
        }
    }

    func testTrialsTableReadsBackWhatItWrote() throws {
        var done = Trial(configuration: 3, seed: 1, assignment: [.double(0.00025), .string("relu")])
        done.status = .done
        done.objective = 487.25
        done.wallSeconds = 12.34
        var failed = Trial(configuration: 4, seed: 0, assignment: [.double(0.1), .string("tanh")])
        failed.status = .failed
        failed.reason = "exit status 1: error: loss became NaN, at step 900"
        let text = TrialTable.trialsCSV([done, failed], keys: ["ppo.learning_rate", "ppo.network.activation"])
        XCTAssertEqual(text.split(separator: "\n")[0],
                       "trial,configuration,seed,ppo.learning_rate,ppo.network.activation,status,objective,wall_seconds,run_folder,reason")
        XCTAssertEqual(text.split(separator: "\n")[1], "c003-s1,3,1,0.00025,relu,done,487.25,12.3,trials/c003-s1,")
        let read = try TrialTable.readTrials(text, name: "trials.csv")
        XCTAssertEqual(read["c003-s1"]?.status, .done)
        XCTAssertEqual(read["c003-s1"]?.objective, 487.25)
        XCTAssertEqual(read["c004-s0"]?.status, .failed)
        XCTAssertNil(read["c004-s0"]?.objective)
        XCTAssertEqual(read["c004-s0"]?.reason, failed.reason)
        XCTAssertThrowsError(try TrialTable.readTrials(text.replacingOccurrences(of: ",done,", with: ",finished,"), name: "t"))
        XCTAssertThrowsError(try TrialTable.readTrials(text.replacingOccurrences(of: "487.25", with: "nan"), name: "t"))
    }

    func testSummaryRanksByInterquartileMeanAndSkipsFailedSeeds() {
        func trial(_ c: Int, _ s: Int, _ objective: Double?) -> Trial {
            var t = Trial(configuration: c, seed: s, assignment: [.int(c)])
            t.status = objective == nil ? .failed : .done
            t.objective = objective
            return t
        }
        let trials = [trial(0, 0, 100), trial(0, 1, 200), trial(0, 2, 300),
                      trial(1, 0, 400), trial(1, 1, nil), trial(1, 2, 500),
                      trial(2, 0, nil), trial(2, 1, nil), trial(2, 2, nil)]
        let rows = TrialTable.summary(trials)
        XCTAssertEqual(rows.map(\.configuration), [1, 0], "configuration 2 has no finished seed")
        XCTAssertEqual(rows[0].aggregate.mean, 450)
        XCTAssertEqual(rows[0].aggregate.count, 2)
        XCTAssertEqual(rows[0].failed, 1)
        XCTAssertEqual(rows[1].aggregate.interquartileMean, 200)
        let csv = TrialTable.summaryCSV(rows, keys: ["k"])
        XCTAssertTrue(csv.hasPrefix("rank,configuration,k,seeds,failed,iqm,iqm_low,iqm_high,mean,mean_low,mean_high\n1,c001,1,2,1,450.0,400.0,500.0,450.0,400.0,500.0\n"), csv)
    }
}
