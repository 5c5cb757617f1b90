package io.mforce.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.Device;
import io.mforce.runtime.MemoryPool;
import io.mforce.runtime.MforceException;
import org.junit.jupiter.api.Test;

/**
 * A store whose buffers do not all fit frees the ones it made before it reports the failure;
 * declarations that would break the layout are refused before anything is added.
 */
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

  /** A name declared twice, or a declaration after materialize, is refused by the parameter's name. */
  @Test
  void declarationsAreCheckedByName() {
    try (ParameterStore store = new ParameterStore()) {
      store.add("w", Parameter.Kind.MATRIX, Init.zeros(), 2, 2);
      IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
          () -> store.add("w", Parameter.Kind.VECTOR, Init.zeros(), 2));
      assertTrue(twice.getMessage().contains("'w' is declared twice"), twice.getMessage());
      store.materialize(Device.CPU, ParameterStore.Mode.FP32_TRAINING, 1);
      IllegalStateException late = assertThrows(IllegalStateException.class,
          () -> store.add("b", Parameter.Kind.VECTOR, Init.zeros(), 2));
      assertTrue(late.getMessage().contains("'b' declared after the store was materialized"), late.getMessage());
      assertEquals(4, store.numel(), "the refused declarations added nothing");
    }
  }
}
