package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.RuntimeNative;
import java.time.Duration;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.junit.jupiter.api.Test;

/** The process-wide settings of {@link Mforce}. */
class MforceTest {

  @Test
  void deterministicDefaultsToFalseAndRoundTrips() {
    assertFalse(Mforce.deterministic(), "the default (every test that sets it restores it)");
    try {
      Mforce.setDeterministic(true);
      assertTrue(Mforce.deterministic());
      Mforce.setDeterministic(false);
      assertFalse(Mforce.deterministic());
    } finally {
      Mforce.setDeterministic(false);
    }
  }

  /**
   * The CPU pool resized between kernels, each resize followed at once by a parallel region (Philox
   * numbers in 8 pieces): every region finishes and the numbers do not depend on the threads. (The
   * race this once had, new workers counting themselves done in a region they did not join, showed
   * in a C++ stress loop after ~1000 resizes, not within a test's time from Java: the call into
   * the native code leaves the stale workers time to settle.)
   */
  @Test
  void cpuThreadsResizeBetweenKernels() {
    int before = Mforce.cpuThreads();
    try (Tensor t = Tensor.empty(DType.F32, Device.CPU, 1 << 18)) {
      Rng.normal(t, 7, 0);
      float[] expected = t.toFloatArray();
      assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
        for (int i = 0; i < 200; i++) {
          Mforce.setCpuThreads(3 + i % 2);
          Rng.normal(t, 7, 0);
        }
      }, "a parallel region after a resize never finished");
      assertEquals(4, Mforce.cpuThreads());
      assertArrayEquals(expected, t.toFloatArray(), "the numbers do not depend on the threads");
      assertThrows(IllegalArgumentException.class, () -> Mforce.setCpuThreads(0));
    } finally {
      Mforce.setCpuThreads(before);
    }
  }

  /**
   * A parallel region whose size is not a multiple of its grain runs its last, shorter piece too:
   * Rng.normal over three full pieces of 8192 Philox blocks and five more blocks (the last one
   * partial), on 4 threads so that the region is split on any machine, into a tensor poisoned with
   * NaN, every number checked against the reference stream.
   */
  @Test
  void parallelRegionsRunTheirLastPartialPiece() {
    int before = Mforce.cpuThreads();
    int n = (3 * 8192 + 5) * 4 - 1;
    try (Tensor t = Tensor.full(DType.F32, Device.CPU, Double.NaN, n)) {
      Mforce.setCpuThreads(4);
      Rng.normal(t, 11, 0);
      float[] z = t.toFloatArray();
      for (int j = 0; j < n; j++) {
        final int index = j;
        assertEquals(Float.floatToRawIntBits(PhiloxReference.normal(11, j)), Float.floatToRawIntBits(z[j]),
            () -> "normal " + index + " of " + n + ": " + z[index]);
      }
    } finally {
      Mforce.setCpuThreads(before);
    }
  }

  /**
   * A thread count no machine can run is an IllegalArgumentException and leaves the pool as it
   * was. It once tried to start every thread: the first std::thread that failed threw across the
   * C ABI and the JVM aborted (at about 32k threads here, the process's memory-map limit).
   */
  @Test
  void absurdCpuThreadCountsAreRejected() {
    int before = Mforce.cpuThreads();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Mforce.setCpuThreads(Integer.MAX_VALUE));
    assertTrue(e.getMessage().contains("2147483647 requested"), e.getMessage());
    assertEquals(before, Mforce.cpuThreads());
  }

  /**
   * One pool runs every CPU thread: OpenBLAS stays single-threaded whatever the kernels' thread
   * count, as mf_cpu_sgemm splits the GEMM over that pool itself.
   */
  @Test
  void openBlasRunsSingleThreadedUnderTheKernelsPool() {
    int before = Mforce.cpuThreads();
    try {
      Mforce.setCpuThreads(2);
      // 100 rows: over the few-rows kernel's 64, so OpenBLAS runs it
      try (Tensor a = Tensor.zeros(DType.F32, Device.CPU, 100, 512);
           Tensor c = Tensor.zeros(DType.F32, Device.CPU, 100, 100)) {
        Gemm.matmul(a, false, a, true, c, 1, 0);
      }
      assertEquals(1, openblas_nolapack.blas_get_num_threads());
      assertTrue(Mforce.cpuBlas().contains("2 threads"), Mforce.cpuBlas());
      int rows = RuntimeNative.mf_cpu_gemm_rows_max();
      assertTrue(rows == 0 || rows == 64, "rows " + rows);
      assertTrue(Mforce.cpuBlas().contains(rows > 0 ? "up to 64 rows" : "no AVX2+FMA"), Mforce.cpuBlas());
    } finally {
      Mforce.setCpuThreads(before);
    }
  }

  /** mf_setenv_default sets a variable that is not set, keeps one that is, and names a bad name. */
  @Test
  void environmentDefaultsKeepTheValueInPlace() {
    String name = "MFORCE_TEST_VARIABLE_" + System.nanoTime();
    assertNull(RuntimeNative.mf_getenv(name));
    NativeCalls.check(RuntimeNative.mf_setenv_default(name, "first"), "setenv");
    assertEquals("first", RuntimeNative.mf_getenv(name));
    NativeCalls.check(RuntimeNative.mf_setenv_default(name, "second"), "setenv");
    assertEquals("first", RuntimeNative.mf_getenv(name), "the value in place wins");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NativeCalls.check(RuntimeNative.mf_setenv_default("A=B", "x"), "setenv"));
    assertTrue(e.getMessage().contains("'A=B' is not a variable name"), e.getMessage());
  }
}
