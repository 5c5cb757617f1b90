package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

/** The mapping of C ABI statuses and native messages to Java exceptions. */
class NativeCallsTest {
  @Test
  void cudaErrorsNameTheKernelAndCarryCudasMessage() {
    RuntimeException e = NativeCalls.exceptionFor(4, "flow.euler",
        "flow_euler: an illegal memory access was encountered (cudaErrorIllegalAddress)");
    CudaException c = assertInstanceOf(CudaException.class, e);
    assertEquals("flow_euler", c.operation());
    assertEquals("an illegal memory access was encountered (cudaErrorIllegalAddress)", c.cudaError());
    assertEquals(MforceException.Status.CUDA, c.status());
  }

  @Test
  void invalidArgumentsBecomeIllegalArgumentExceptions() {
    RuntimeException e = NativeCalls.exceptionFor(1, "flow.noise", "flow_noise: argument 'x' is null");
    assertInstanceOf(IllegalArgumentException.class, e);
    assertEquals("flow.noise: flow_noise: argument 'x' is null", e.getMessage());
  }

  @Test
  void otherStatusesKeepTheirStatus() {
    MforceException e = assertInstanceOf(MforceException.class, NativeCalls.exceptionFor(3, "attention", ""));
    assertEquals(MforceException.Status.NO_CUDA, e.status());
    assertEquals("attention: no_cuda", e.getMessage());
    assertEquals(MforceException.Status.INTERNAL, NativeCalls.exceptionFor(99, "x", "y") instanceof MforceException m
        ? m.status() : null);
  }
}
