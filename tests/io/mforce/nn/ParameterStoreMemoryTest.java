package io.mforce.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mforce.runtime.Device;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.MforceException;
import org.junit.jupiter.api.Test;

/** A store whose buffers do not all fit frees the ones it made before it reports the failure. */
class ParameterStoreMemoryTest {
  @Test
  void aFailedMaterializationFreesWhatItAllocated() {
    MemoryPool pool = MemoryPool.of(Device.CPU);
    try (ParameterStore store = new ParameterStore()) {
      // inference: the fp32 master holds the 4 MiB vector and is made first; the matrix's bf16
      // working copy (2^40 elements, 2 TiB) cannot be
      store.add("gain", Parameter.Kind.VECTOR, Init.ones(), 1 << 20);
      store.add("huge", Parameter.Kind.MATRIX, Init.zeros(), 1L << 20, 1L << 20);
      long before = pool.stats().inUseBytes();
      MforceException e = assertThrows(MforceException.class,
          () -> store.materialize(Device.CPU, ParameterStore.Mode.BF16_INFERENCE, 1));
      assertEquals(MforceException.Status.OUT_OF_MEMORY, e.status(), e.getMessage());
      assertEquals(before, pool.stats().inUseBytes(), "the master buffer made before the failure is still held");
      assertFalse(store.isMaterialized());
      assertThrows(IllegalStateException.class, () -> store.get("gain").value(), "the parameter is still bound");
    }
  }
}
