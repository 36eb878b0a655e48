import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SeededRandom
import Synchronization
import XCTest
@testable import Sweeps

final class HTTPClientTests: XCTestCase {
    // MARK: Parsing replies

    func testParsesContentLengthBody() throws {
        let reply = try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\": true}"))
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["content-type"], "application/json")
        XCTAssertEqual(reply.text, "{\"a\": true}")
        // Bytes after the announced body are not part of it.
        XCTAssertEqual(try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi and more")).text, "hi")
        // No reason phrase, bare line feeds, repeated fields joined.
        let lenient = try HTTPResponse.parse(bytes("HTTP/1.0 404\nSet-Cookie: a\nSet-Cookie: b\nContent-Length: 0\n\n"))
        XCTAssertEqual(lenient.status, 404)
        XCTAssertEqual(lenient.headers["set-cookie"], "a, b")
        XCTAssertEqual(lenient.body, [])
    }

    func testParsesChunkedBodyWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
            + "4;name=value\r\nWiki\r\n5\r\npedia\r\nE ; ext=\"q\"\r\n in\r\n\r\nchunks.\r\na\r\n0123456789\r\n"
            + "0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Checksum: 1\r\n\r\n"
        let reply = try HTTPResponse.parse(bytes(text))
        XCTAssertEqual(reply.text, "Wikipedia in\r\n\r\nchunks.0123456789")
        XCTAssertNil(reply.headers["expires"], "trailer fields are not merged into the header fields")
    }

    func testReadsBodyUntilTheConnectionCloses() throws {
        let reply = try HTTPResponse.parse(bytes("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nTraceback:\nboom\n"))
        XCTAssertEqual(reply.status, 500)
        XCTAssertEqual(reply.text, "Traceback:\nboom\n")
        XCTAssertEqual(try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nraw")).text, "raw")
    }

    func testSkipsInterimRepliesAndKnowsBodilessOnes() throws {
        let reply = try HTTPResponse.parse(bytes("HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(reply.status, 201)
        XCTAssertNil(reply.headers["x-a"])
        XCTAssertEqual(reply.text, "ok")
        // A 204 is complete at the end of its fields, without waiting for the connection to close.
        var parser = HTTPResponseParser()
        XCTAssertEqual(try parser.feed(bytes("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"))?.status, 204)
        let head = try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), method: "HEAD")
        XCTAssertEqual(head.body, [])
    }

    func testFeedingOneByteAtATimeGivesTheSameReply() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n"
        var parser = HTTPResponseParser()
        var result: HTTPResponse? = nil
        for byte in bytes(text) {
            XCTAssertNil(result, "complete before its last byte")
            result = try parser.feed([byte])
        }
        XCTAssertEqual(result, try HTTPResponse.parse(bytes(text)))
        XCTAssertEqual(result?.text, "abcde")
    }

    func testRefusesOversizedHeadsAndBodies() {
        assertMalformed("HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n", saying: "longer than 64 KiB")
        let many = (0..<101).map { "X-\($0): 1\r\n" }.joined()
        assertMalformed("HTTP/1.1 200 OK\r\n\(many)\r\n", saying: "more than 100 header fields")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n", saying: "more than the 16 MiB")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000001\r\n", saying: "longer than 16 MiB")
        assertMalformed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfff000\r\n") + [UInt8](repeating: 1, count: 0xfff000)
                        + bytes("\r\n10000\r\n"), saying: "longer than 16 MiB")
        assertMalformed(bytes("HTTP/1.1 200 OK\r\n\r\n") + [UInt8](repeating: 1, count: (16 << 20) + 1), saying: "longer than 16 MiB")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 5000), saying: "chunk-size line is longer")
        let trailers = (0..<101).map { "T-\($0): 1\r\n" }.joined()
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\(trailers)\r\n", saying: "more than 100 trailer fields")
        // The limits are exact: 16 MiB of body is read.
        XCTAssertEqual(try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n") + [UInt8](repeating: 1, count: 16 << 20)).body.count, 16 << 20)
    }

    func testRefusesBadStatusLines() {
        for line in ["HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "ICY 200 OK", "http/1.1 200 OK", "HTTP/1.1 2x0 OK",
                     "HTTP/1.1  200 OK", "", "HTTP/1.1 200 O\u{1}K"] {
            assertMalformed("\(line)\r\nContent-Length: 0\r\n\r\n", saying: "status line")
        }
        assertMalformed("HTTP/1.1 099 Early\r\n\r\n", saying: "outside 100...599")
        assertMalformed("HTTP/1.1 600 Late\r\n\r\n", saying: "outside 100...599")
        assertMalformed("HTTP/1.1 101 Switching Protocols\r\n\r\n", saying: "switched protocols")
        assertMalformed("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", saying: "folded")
        assertMalformed("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", saying: "has no colon")
        assertMalformed("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", saying: "invalid field name")
        assertMalformed("HTTP/1.1 200 OK\r\nX: a\u{0}b\r\n\r\n", saying: "control character")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", saying: "'gzip' is not supported")
    }

    func testRefusesBadContentLengths() {
        for value in ["-1", "+5", "1e3", "0x10", "", "5 5", "99999999999999999999999999999", "1, 1"] {
            assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\nhello", saying: "Content-Length")
        }
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", saying: "conflicting Content-Length")
        XCTAssertEqual(try HTTPResponse.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")).text, "hello")
    }

    func testRefusesBadChunkSizes() {
        for size in ["-5", "zz", "", " 5", "5 junk", "ffffffffffffffff", "fffffffffffffffffffffffffff", "0x5"] {
            assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n", saying: "chunk")
        }
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", saying: "longer than its size line says")
    }

    func testTruncatedRepliesAreErrors() {
        assertMalformed("", saying: "closed the connection without replying")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-", saying: "ends inside its header fields")
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", saying: "after 4 of the 10 body bytes")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n", saying: "ends inside its chunked body")
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", saying: "ends inside its trailer fields")
    }

    /// Mutated valid replies (truncated, bits flipped, bytes replaced or inserted) must give
    /// a reply or an error, never a crash or a hang, and the same verdict whether the bytes
    /// arrive at once or in random pieces.
    func testParserFuzzNeverCrashesAndIgnoresHowBytesArrive() {
        let valid = [
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"submission_id\": \"c000-s0\"}",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nWiki\r\n5\r\npedia\r\n0\r\nT: x\r\n\r\n",
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nTraceback (most recent call last):\nValueError: x\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\nServer: aiohttp\r\n\r\n",
        ].map(bytes)
        let alphabet = Array("\r\n:; \t0123456789abcdefABCDEF-+xHTP/1.".utf8) + [0x00, 0x7f, 0x80, 0xff]
        var generator = SeededGenerator(seed: 2_026)
        var outcomes = [0, 0]
        for _ in 0..<2_000 {
            var mutated = valid[generator.int(below: valid.count)]
            for _ in 0..<(1 + generator.int(below: 3)) {
                let i = generator.int(below: mutated.count + 1)
                switch generator.int(below: 4) {
                case 0: mutated = Array(mutated.prefix(i))
                case 1 where i < mutated.count: mutated[i] ^= UInt8(1) << UInt8(generator.int(below: 8))
                case 2 where i < mutated.count: mutated[i] = alphabet[generator.int(below: alphabet.count)]
                default: mutated.insert(alphabet[generator.int(below: alphabet.count)], at: i)
                }
            }
            let whole = Result { () throws(HTTPError) in try HTTPResponse.parse(mutated) }
            var parser = HTTPResponseParser()
            var rest = mutated[...]
            let pieces = Result { () throws(HTTPError) -> HTTPResponse in
                while !rest.isEmpty {
                    let count = 1 + generator.int(below: min(rest.count, 40))
                    if let reply = try parser.feed(rest.prefix(count)) { return reply }
                    rest = rest.dropFirst(count)
                }
                return try parser.finish()
            }
            XCTAssertEqual(whole, pieces, "\(HTTPResponseParser.excerpt(mutated[...]))")
            if case .success(let reply) = whole {
                XCTAssertTrue((100...599).contains(reply.status))
                XCTAssertLessThanOrEqual(reply.body.count, mutated.count)
                outcomes[0] += 1
            } else {
                outcomes[1] += 1
            }
        }
        XCTAssertGreaterThan(outcomes[0], 100, "the mutations should leave some replies readable")
        XCTAssertGreaterThan(outcomes[1], 100, "the mutations should break some replies")
    }

    // MARK: Addresses

    func testReadsHTTPAddresses() throws {
        let plain = try HTTPURL("http://10.0.0.1:8265")
        XCTAssertEqual([plain.host, "\(plain.port)", plain.target], ["10.0.0.1", "8265", "/"])
        let full = try HTTPURL("HTTP://head-node.local/ray/api/jobs/?limit=5#frag")
        XCTAssertEqual([full.host, "\(full.port)", full.target], ["head-node.local", "80", "/ray/api/jobs/?limit=5"])
        let v6 = try HTTPURL("http://[::1]:8265/api/version")
        XCTAssertEqual([v6.host, v6.authority, v6.description], ["::1", "[::1]:8265", "http://[::1]:8265/api/version"])
        XCTAssertEqual(try HTTPURL("http://h?x=1").target, "/?x=1")

        XCTAssertThrowsError(try HTTPURL("https://ray.example.com:8265")) { error in
            XCTAssertEqual(error as? HTTPError, .httpsUnsupported("https://ray.example.com:8265"))
            XCTAssertTrue("\(error)".contains("SSH tunnel"), "\(error)")
        }
        for (text, reason) in [
            ("ray-head:8265", "does not start with http://"), ("http://:8265", "has no host"), ("http://h:0", "port"),
            ("http://h:65536", "port"), ("http://h:80x", "port"), ("http://user:pw@h:8265", "passwords"),
            ("http://::1:8265", "in brackets"), ("http://[::1:8265", "closing ]"), ("http://h:8265/a b", "space"),
            ("http://h:8265/\r\nX-Injected: 1", "control character"), ("http://hé:8265", "non-ASCII"), ("http://h!:1", "not a host name"),
        ] {
            XCTAssertThrowsError(try HTTPURL(text), text) { error in
                guard case .invalidURL(_, let message)? = error as? HTTPError else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains(reason), "\(text): \(message)")
                XCTAssertTrue("\(error)".contains("http://127.0.0.1:8265"), "\(error)")
            }
        }
    }

    // MARK: Round trips over TCP

    func testGetAndPostRoundTripOverTCP() throws {
        let server = try CannedServer { request in
            let body = request.line.hasPrefix("POST") ? request.body : Array("{\"ok\": 1}".utf8)
            return .bytes(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        }
        defer { server.stop() }
        let client = HTTPClient(timeout: 5)
        let get = try client.request("GET", "http://127.0.0.1:\(server.port)/api/version")
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(get.text, "{\"ok\": 1}")
        let json = Array("{\"entrypoint\": \"echo hi\"}".utf8)
        let post = try client.request("POST", "http://127.0.0.1:\(server.port)/api/jobs/", jsonBody: json)
        XCTAssertEqual(post.body, json)

        let requests = server.received
        XCTAssertEqual(requests.map(\.line), ["GET /api/version HTTP/1.1", "POST /api/jobs/ HTTP/1.1"])
        XCTAssertEqual(requests[0].header("host"), "127.0.0.1:\(server.port)")
        XCTAssertEqual(requests[0].header("connection"), "close")
        XCTAssertNil(requests[0].header("content-length"))
        XCTAssertEqual(requests[1].header("content-type"), "application/json")
        XCTAssertEqual(requests[1].header("content-length"), "\(json.count)")
        XCTAssertEqual(requests[1].body, json)
    }

    func testReadsAReplyArrivingInPiecesAndUntilClose() throws {
        let server = try CannedServer { request in
            request.line.contains("/chunked")
                ? .pieces(["HTTP/1.1 200 OK\r\nTransfer-", "Encoding: chunked\r\n\r\n5\r", "\nhello\r\n", "6\r\n world\r\n0\r\n", "\r\n"].map(bytes))
                : .pieces(["HTTP/1.1 200 OK\r\n\r\nuntil", " close"].map(bytes))
        }
        defer { server.stop() }
        let client = HTTPClient(timeout: 5)
        XCTAssertEqual(try client.request("GET", "http://127.0.0.1:\(server.port)/chunked").text, "hello world")
        XCTAssertEqual(try client.request("GET", "http://127.0.0.1:\(server.port)/close").text, "until close")
    }

    func testLocalhostFallsBackAcrossAddressFamilies() throws {
        // "localhost" may resolve to ::1 first; the server listens on 127.0.0.1 only.
        let server = try CannedServer { _ in .bytes(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) }
        defer { server.stop() }
        XCTAssertEqual(try HTTPClient(timeout: 5).request("GET", "http://localhost:\(server.port)/").text, "ok")
    }

    func testConnectionRefusedSaysToStartRay() throws {
        let port = try unusedPort()
        XCTAssertThrowsError(try HTTPClient(timeout: 5).request("GET", "http://127.0.0.1:\(port)/api/version")) { error in
            XCTAssertEqual(error as? HTTPError, .cannotConnect(address: "127.0.0.1:\(port)", reason: "Connection refused"))
            XCTAssertEqual("\(error)", "cannot connect to 127.0.0.1:\(port) (Connection refused): is the Ray head running? start it with "
                + "`ray start --head --dashboard-host=0.0.0.0`, and check that the port is the dashboard's (8265 by default)")
        }
    }

    func testASilentServerTimesOut() throws {
        let server = try CannedServer { _ in .silence }
        defer { server.stop() }
        let start = Date()
        XCTAssertThrowsError(try HTTPClient(timeout: 0.3).request("GET", "http://127.0.0.1:\(server.port)/api/jobs/x")) { error in
            XCTAssertEqual(error as? HTTPError, .timedOut(url: "http://127.0.0.1:\(server.port)/api/jobs/x", seconds: 0.3, phase: "waiting for a reply from"))
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 3)
    }

    func testAMalformedReplyNamesTheAddress() throws {
        let server = try CannedServer { _ in .bytes(bytes("SSH-2.0-OpenSSH_9.6\r\n")) }
        defer { server.stop() }
        XCTAssertThrowsError(try HTTPClient(timeout: 5).request("GET", "http://127.0.0.1:\(server.port)/api/version")) { error in
            guard case .malformedReply(let url?, let reason)? = error as? HTTPError else { return XCTFail("\(error)") }
            XCTAssertEqual(url, "http://127.0.0.1:\(server.port)/api/version")
            XCTAssertTrue(reason.contains("'SSH-2.0-OpenSSH_9.6' is not HTTP/1.0 or HTTP/1.1"), reason)
            XCTAssertTrue("\(error)".contains("the Ray dashboard's (port 8265 by default)"), "\(error)")
        }
    }

    // MARK: Ray's Job Submission API

    /// Replies as Ray 2.60.0's dashboard wrote them (recorded with curl against a cluster).
    func testRayJobsSpeaksTheJobSubmissionAPI() throws {
        let server = try CannedServer { request in
            switch request.line {
            case "GET /api/version HTTP/1.1":
                .json(#"{"version": "4", "ray_version": "2.60.0", "ray_commit": "b7f4259e944bf6959f721b106adc366ddfa0c356", "session_name": "session_2026-11-26_07-45-29_123585_4954"}"#)
            case "POST /api/jobs/ HTTP/1.1":
                .json(#"{"job_id": "c000-s0", "submission_id": "c000-s0"}"#)
            case "GET /api/jobs/c000-s0 HTTP/1.1":
                .json(#"{"type": "SUBMISSION", "job_id": null, "submission_id": "c000-s0", "driver_info": null, "status": "FAILED", "entrypoint": "echo failing; exit 3", "message": "Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\nfailing\n", "error_type": "JOB_ENTRYPOINT_COMMAND_ERROR", "start_time": 1795679176803, "end_time": 1795679179355, "metadata": null, "runtime_env": null, "driver_agent_http_address": "http://192.0.2.2:52365", "driver_node_id": "0fb6e118b3885d9a8f9f03e67c5470ccf16d001db8847b2bfa09dfcb", "driver_exit_code": 3}"#)
            case "GET /api/jobs/lost%201 HTTP/1.1":
                .json(#"{"type": "SUBMISSION", "job_id": null, "submission_id": "lost 1", "driver_info": null, "status": "FAILED", "entrypoint": "sleep 300", "message": "Job supervisor actor died: The actor died unexpectedly before finishing this task.\nThe actor died because its node has died. Node Id: f839d80d6514aad429eb404ca01168636806551717439341b4a7cb7f\n\tthe actor's node was terminated unexpectedly: health check failed due to missing too many heartbeats", "error_type": "JOB_SUPERVISOR_ACTOR_DIED", "start_time": 1795679193477, "end_time": 1795679237715, "metadata": null, "runtime_env": null, "driver_agent_http_address": "http://192.0.2.2:-1", "driver_node_id": "f839d80d6514aad429eb404ca01168636806551717439341b4a7cb7f", "driver_exit_code": null}"#)
            case "GET /api/jobs/pending HTTP/1.1":
                .json(#"{"type": "SUBMISSION", "job_id": null, "submission_id": "pending", "driver_info": null, "status": "PENDING", "entrypoint": "echo", "message": "Job has not started yet. It may be waiting for resources (CPUs, GPUs, memory, custom resources) to become available.", "error_type": null, "driver_node_id": null, "driver_exit_code": null}"#)
            case "GET /api/jobs/c000-s0/logs HTTP/1.1":
                .json(#"{"logs": "2026-11-26 07:46:16,806\tINFO job_manager.py:581 -- Runtime env is setting up.\nRunning entrypoint for job c000-s0: echo failing; exit 3\nfailing\n"}"#)
            case "POST /api/jobs/c000-s0/stop HTTP/1.1":
                .json(#"{"stopped": false}"#)
            case "GET /api/jobs/weird HTTP/1.1":
                .json(#"{"status": "EXPLODED"}"#)
            default:
                .bytes(bytes("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\n\r\nJob nope-xyz does not exist"))
            }
        }
        defer { server.stop() }
        let ray = try RayJobs(address: "http://127.0.0.1:\(server.port)/", client: HTTPClient(timeout: 5))
        XCTAssertEqual(ray.address, "http://127.0.0.1:\(server.port)")
        XCTAssertEqual(try ray.version(), "2.60.0")

        let id = try ray.submit(entrypoint: "cd /shared && agentlab train --config c000-s0.yaml", submissionID: "c000-s0", cpus: 1,
                                metadata: ["sweep": "ppo-cartpole"])
        XCTAssertEqual(id, "c000-s0")
        let sent = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(server.received.last!.body)) as? [String: Any])
        XCTAssertEqual(sent["entrypoint"] as? String, "cd /shared && agentlab train --config c000-s0.yaml")
        XCTAssertEqual(sent["submission_id"] as? String, "c000-s0")
        XCTAssertEqual((sent["entrypoint_num_cpus"] as? NSNumber)?.doubleValue, 1)
        XCTAssertEqual(sent["metadata"] as? [String: String], ["sweep": "ppo-cartpole"])

        let failed = try ray.info("c000-s0")
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(failed.errorType, "JOB_ENTRYPOINT_COMMAND_ERROR")
        XCTAssertEqual(failed.driverExitCode, 3)
        XCTAssertTrue(failed.message.hasPrefix("Job entrypoint command failed with exit code 3"))
        XCTAssertFalse(failed.isNodeLost)
        let lost = try ray.info("lost 1")
        XCTAssertTrue(lost.isNodeLost)
        XCTAssertNil(lost.driverExitCode)
        XCTAssertEqual(lost.driverNodeID, "f839d80d6514aad429eb404ca01168636806551717439341b4a7cb7f")
        let pending = try ray.info("pending")
        XCTAssertEqual(pending.status, .pending)
        XCTAssertFalse(pending.status.isTerminal)
        XCTAssertNil(pending.errorType)
        XCTAssertNil(pending.driverNodeID)

        XCTAssertTrue(try ray.logs("c000-s0").hasSuffix("Running entrypoint for job c000-s0: echo failing; exit 3\nfailing\n"))
        XCTAssertFalse(try ray.stop("c000-s0"))

        XCTAssertThrowsError(try ray.info("nope-xyz")) { error in
            XCTAssertEqual(error as? RayJobsError, .notFound(submissionID: "nope-xyz", address: ray.address))
        }
        XCTAssertThrowsError(try ray.logs("nope-xyz")) { error in
            XCTAssertEqual(error as? RayJobsError, .notFound(submissionID: "nope-xyz", address: ray.address))
        }
        XCTAssertThrowsError(try ray.info("weird")) { error in
            XCTAssertTrue("\(error)".contains("its status EXPLODED, not one of PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED"), "\(error)")
        }
    }

    func testRayJobsReportsAnExistingSubmissionID() throws {
        // Ray 2.60.0 answers 500, the job agent's 400 wrapped in the head's traceback.
        let traceback = """
            Traceback (most recent call last):
              File "/venv/lib/python3.11/site-packages/ray/dashboard/modules/job/job_head.py", line 419, in submit_job
                resp = await job_agent_client.submit_job_internal(submit_request)
            RuntimeError: Request failed with status code 400: Traceback (most recent call last):
              File "/venv/lib/python3.11/site-packages/ray/dashboard/modules/job/job_manager.py", line 553, in submit_job
                raise ValueError(
            ValueError: Job with submission_id c000-s0 already exists. Please use a different submission_id.
            .

            """
        for status in [500, 400, 409] {
            let server = try CannedServer { _ in
                .bytes(bytes("HTTP/1.1 \(status) Whatever\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(traceback.utf8.count)\r\n\r\n\(traceback)"))
            }
            defer { server.stop() }
            let ray = try RayJobs(address: "http://127.0.0.1:\(server.port)", client: HTTPClient(timeout: 5))
            XCTAssertThrowsError(try ray.submit(entrypoint: "true", submissionID: "c000-s0", cpus: 1)) { error in
                XCTAssertEqual(error as? RayJobsError, .alreadyExists(submissionID: "c000-s0"))
            }
        }
        XCTAssertEqual(RayJobs.rayMessage(traceback), "ValueError: Job with submission_id c000-s0 already exists. Please use a different submission_id.")
        XCTAssertEqual(RayJobs.rayMessage("Job x does not exist"), "Job x does not exist")
    }

    func testRayJobsPassesOnOtherRefusals() throws {
        let server = try CannedServer { _ in
            .bytes(bytes("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 57\r\n\r\nNo available agent to submit job, please try again later."))
        }
        defer { server.stop() }
        let ray = try RayJobs(address: "http://127.0.0.1:\(server.port)", client: HTTPClient(timeout: 5))
        XCTAssertThrowsError(try ray.submit(entrypoint: "true", submissionID: "c001-s0", cpus: 0.5)) { error in
            XCTAssertEqual(error as? RayJobsError, .refused(
                action: "submitting job 'c001-s0' to \(ray.address)", status: 500,
                message: "No available agent to submit job, please try again later."))
        }
        XCTAssertThrowsError(try RayJobs(address: "https://head:8265"))
        XCTAssertThrowsError(try RayJobs(address: "http://head:8265/?x=1"))
    }

    /// Against a real cluster, when `AGENTLAB_TEST_RAY_ADDRESS` names one (for example the
    /// head that scripts/ray/ray-sweep-check.sh starts): submit, poll, read logs, refuse a
    /// repeated ID, stop.
    func testAgainstALiveRayCluster() throws {
        guard let address = ProcessInfo.processInfo.environment["AGENTLAB_TEST_RAY_ADDRESS"] else {
            throw XCTSkip("set AGENTLAB_TEST_RAY_ADDRESS=http://HEAD:8265 to run against a Ray cluster")
        }
        let ray = try RayJobs(address: address)
        let version = try XCTUnwrap(try ray.version())
        let id = "agentlab-http-test-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        XCTAssertEqual(try ray.submit(entrypoint: "echo hello from $(pwd); echo oops >&2; exit 3", submissionID: id, cpus: 1,
                                      metadata: ["test": "HTTPClientTests"]), id)
        XCTAssertThrowsError(try ray.submit(entrypoint: "true", submissionID: id, cpus: 1)) { error in
            XCTAssertEqual(error as? RayJobsError, .alreadyExists(submissionID: id))
        }
        var info = try ray.info(id)
        let deadline = Date().addingTimeInterval(60)
        while !info.status.isTerminal && Date() < deadline {
            usleep(250_000)
            info = try ray.info(id)
        }
        XCTAssertEqual(info.status, .failed, "Ray \(version): \(info)")
        XCTAssertEqual(info.errorType, "JOB_ENTRYPOINT_COMMAND_ERROR")
        XCTAssertEqual(info.driverExitCode, 3)
        let logs = try ray.logs(id)
        XCTAssertTrue(logs.contains("hello from /") && logs.contains("oops"), logs)

        let sleeper = id + "-stop"
        _ = try ray.submit(entrypoint: "sleep 60", submissionID: sleeper, cpus: 1)
        try ray.stop(sleeper)
        var stopped = try ray.info(sleeper)
        while !stopped.status.isTerminal && Date() < deadline {
            usleep(250_000)
            stopped = try ray.info(sleeper)
        }
        XCTAssertEqual(stopped.status, .stopped, "\(stopped)")
        XCTAssertThrowsError(try ray.info(id + "-never")) { error in
            XCTAssertEqual(error as? RayJobsError, .notFound(submissionID: id + "-never", address: ray.address))
        }
    }

    // MARK: Helpers

    private func assertMalformed(_ text: String, saying expected: String, file: StaticString = #filePath, line: UInt = #line) {
        assertMalformed(bytes(text), saying: expected, file: file, line: line)
    }

    private func assertMalformed(_ reply: [UInt8], saying expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HTTPResponse.parse(reply), file: file, line: line) { error in
            guard case .malformedReply(nil, let reason)? = error as? HTTPError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(reason.contains(expected), "\(reason) (expected: \(expected))", file: file, line: line)
        }
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then released).
    private func unusedPort() throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = CannedServer.loopback(port: 0)
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 else { throw CannedServer.Failure.socket("bind") }
            }
        }
        return try CannedServer.boundPort(listener)
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A TCP server on 127.0.0.1 (a free port) for tests: one thread accepts connections one
/// at a time, reads each request (head and Content-Length body), records it, and answers
/// with `reply`'s bytes, then closes.
final class CannedServer: Sendable {
    enum Reply: Sendable {
        /// These bytes, then close.
        case bytes([UInt8])
        /// These pieces with a pause after each, then close.
        case pieces([[UInt8]])
        /// Nothing: the connection stays open until the server stops.
        case silence

        static func json(_ text: String) -> Reply {
            .bytes(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)".utf8))
        }
    }

    struct Request: Sendable {
        /// The request line, e.g. "GET /api/version HTTP/1.1".
        let line: String
        let headers: [(String, String)]
        let body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    enum Failure: Error { case socket(String) }

    let port: Int
    private let listener: Int32
    private let requests = Mutex<[Request]>([])
    private let isStopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(reply: @escaping @Sendable (Request) -> Reply) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 16) == 0 else {
            if listener >= 0 { close(listener) }
            throw Failure.socket("bind/listen: \(errno)")
        }
        self.listener = listener
        port = try Self.boundPort(listener)
        Thread.detachNewThread { [self] in serve(reply) }
    }

    /// Every request so far, in order.
    var received: [Request] { requests.withLock { $0 } }

    /// Stops accepting, closes held connections, and waits for the thread to end.
    func stop() {
        isStopping.store(true, ordering: .sequentiallyConsistent)
        while !stopped.load(ordering: .sequentiallyConsistent) { usleep(1_000) }
        close(listener)
    }

    private func serve(_ reply: @Sendable (Request) -> Reply) {
        var held: [Int32] = []
        defer {
            held.forEach { close($0) }
            stopped.store(true, ordering: .sequentiallyConsistent)
        }
        while !isStopping.load(ordering: .sequentiallyConsistent) {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            guard let request = read(connection) else { close(connection); continue }
            requests.withLock { $0.append(request) }
            switch reply(request) {
            case .bytes(let bytes):
                write(bytes, to: connection)
            case .pieces(let pieces):
                for piece in pieces {
                    write(piece, to: connection)
                    usleep(20_000)
                }
            case .silence:
                held.append(connection)
                continue
            }
            shutdown(connection, Int32(SHUT_WR))
            close(connection)
        }
    }

    private func read(_ connection: Int32) -> Request? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int? = nil, contentLength = 0
        while headEnd.map({ data.count < $0 + contentLength }) ?? true {
            var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 2_000) > 0 else { return nil }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            data += chunk[0..<count]
            if headEnd == nil, let end = Self.find([13, 10, 13, 10], in: data) {
                headEnd = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        let lines = String(decoding: data[0..<(headEnd! - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let headers = lines.dropFirst().map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        return Request(line: lines[0], headers: headers, body: Array(data[headEnd!...]))
    }

    private func write(_ bytes: [UInt8], to connection: Int32) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func boundPort(_ socket: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard result == 0 else { throw Failure.socket("getsockname: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
