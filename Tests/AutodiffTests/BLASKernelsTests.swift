import Autodiff
import XCTest

final class BLASKernelsTests: XCTestCase {
    /// Prescott or generic kernels on a CPU with AVX2 or AVX-512 earn one line naming the
    /// OPENBLAS_CORETYPE to try; matching kernels, or a CPU without either, earn none.
    func testSlowKernelWarning() throws {
        let skylake = try XCTUnwrap(BLASKernels.slowKernelWarning(coreName: "Prescott", cpuFlags: ["sse3", "avx2", "avx512f"]))
        XCTAssertTrue(skylake.contains("Prescott kernels on a CPU with AVX-512"), skylake)
        XCTAssertTrue(skylake.contains("OPENBLAS_CORETYPE=SkylakeX"), skylake)
        let haswell = try XCTUnwrap(BLASKernels.slowKernelWarning(coreName: "Generic", cpuFlags: ["avx2"]))
        XCTAssertTrue(haswell.contains("OPENBLAS_CORETYPE=Haswell"), haswell)
        XCTAssertNil(BLASKernels.slowKernelWarning(coreName: "Haswell", cpuFlags: ["avx2"]))
        XCTAssertNil(BLASKernels.slowKernelWarning(coreName: "SkylakeX", cpuFlags: ["avx2", "avx512f"]))
        XCTAssertNil(BLASKernels.slowKernelWarning(coreName: "Prescott", cpuFlags: ["sse3"]))
        XCTAssertFalse(BLASKernels.coreName.isEmpty)
    }
}
