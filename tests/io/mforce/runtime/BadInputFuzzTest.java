package io.mforce.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mforce.flow.FlowKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand calls of the public runtime and flow API with random invalid arguments: wrong
 * shapes, dtypes, devices, ranks, nulls, closed and empty tensors, out-of-range times, and
 * offsets, counts and dimensions up to the limits of a long (where unchecked sums overflow).
 * Each must end in a clear exception (IllegalArgumentException, IllegalStateException or
 * MforceException); anything else, or a JVM crash, fails the run. A rejected call must leave
 * every tensor it was given unchanged.
 */
class BadInputFuzzTest {
  private final SplittableRandom random = new SplittableRandom(20261124);
  private final List<Tensor> pool = new ArrayList<>();
  private final List<Tensor> args = new ArrayList<>();      // the tensors of the current call
  private final List<float[]> snapshot = new ArrayList<>(); // their contents before it

  private Tensor randomTensor() {
    Tensor t = makeTensor();
    if (t != null && !t.isClosed() && t.dtype().isFloat()) {
      args.add(t);
      snapshot.add(t.toFloatArray());
    }
    return t;
  }

  /** Fails when a tensor of the rejected call changed. */
  private void assertUnchanged(int call) {
    for (int i = 0; i < args.size(); i++) {
      float[] now = args.get(i).toFloatArray();
      float[] before = snapshot.get(i);
      for (int j = 0; j < now.length; j++) {
        if (Float.floatToRawIntBits(now[j]) != Float.floatToRawIntBits(before[j])) {
          fail("call " + call + " was rejected but changed element " + j + " of " + args.get(i));
        }
      }
    }
  }

  private Tensor makeTensor() {
    int kind = random.nextInt(10);
    if (kind == 0) {
      return null;
    }
    if (kind == 1 && !pool.isEmpty()) {
      return pool.get(random.nextInt(pool.size()));
    }
    DType dtype = DType.values()[random.nextInt(3)];
    int rank = random.nextInt(4);
    long[] shape = new long[rank];
    for (int d = 0; d < rank; d++) {
      shape[d] = random.nextInt(4); // includes 0: empty tensors
    }
    Tensor t = Tensor.full(dtype, Device.CPU, random.nextInt(3) == 0 ? Double.NaN : random.nextDouble(-2, 3), shape);
    if (random.nextInt(6) == 0) {
      t.close(); // closed tensors
    }
    pool.add(t);
    if (random.nextInt(8) == 0 && rank >= 2 && shape[1] > 1 && !t.isClosed()) {
      Tensor v = t.narrow(1, 0, 1); // strided views
      pool.add(v);
      return v;
    }
    return t;
  }

  /** Offsets, counts and dimensions where sums and products overflow. */
  private static final long[] EXTREMES = {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE, Long.MAX_VALUE - 1,
      Long.MAX_VALUE / 2, Long.MAX_VALUE / 4 + 1, 1L << 32, Integer.MAX_VALUE + 1L};

  private long randomLong() {
    return switch (random.nextInt(8)) {
      case 0 -> EXTREMES[random.nextInt(EXTREMES.length)];
      case 1, 2 -> -random.nextInt(1, 100);
      default -> random.nextInt(1000);
    };
  }

  private void randomCall() {
    Tensor a = randomTensor();
    Tensor b = randomTensor();
    Tensor c = randomTensor();
    Tensor d = randomTensor();
    Tensor e = randomTensor();
    float w = random.nextInt(5) == 0 ? Float.NaN : (float) random.nextDouble(-5, 5);
    switch (random.nextInt(24)) {
      case 0 -> FlowKernels.noise(a, b, c, d, e);
      case 1 -> FlowKernels.euler(a, b, c, d, e);
      case 2 -> FlowKernels.x0(a, b, c, d);
      case 3 -> FlowKernels.renoise(a, b, c, d);
      case 4 -> FlowKernels.cfg(w, a, b, c);
      case 5 -> FlowKernels.mse(a, b, c, w, d, e);
      case 6 -> FlowKernels.dmdTarget(a, b, c, random.nextBoolean(), d);
      case 7 -> FlowKernels.shortcutTarget(a, b, c, d, e, randomTensor());
      case 8 -> FlowKernels.noisePhilox(a, b, random.nextLong(), randomLong(), c, d, e);
      case 9 -> FlowKernels.cfgEuler(a, b, w, c, d, e, randomTensor());
      case 10 -> FlowKernels.dmdRenoise(a, b, c, d, random.nextLong(), randomLong(), e, randomTensor());
      case 11 -> Gemm.matmul(a, random.nextBoolean(), b, random.nextBoolean(), c, w, 0);
      case 12 -> Rng.normal(a, random.nextLong(), randomLong());
      case 13 -> Rng.uniform(a, random.nextLong(), randomLong());
      case 14 -> Check.notNull(a, "a").copyFrom(b);
      case 15 -> Check.notNull(a, "a").view(randomLong(), randomLong()).close();
      case 16 -> Check.notNull(a, "a").narrow(random.nextInt(-3, 3), randomLong(), randomLong()).close();
      case 17 -> Check.notNull(a, "a").toIntArray();
      case 18 -> Tensor.empty(DType.F32, random.nextBoolean() ? Device.cuda(random.nextInt(3)) : Device.CPU,
          randomLong(), randomLong()).close();
      case 19 -> RowCopy.copy(a, randomLong(), randomLong(), b, randomLong(), randomLong(), randomLong(),
          randomLong());
      case 20 -> Check.notNull(a, "a").select(randomLong()).close();
      case 21 -> Stream.use(null).close();
      case 22 -> Event.create(Device.CPU, true)
          .elapsedMillis(random.nextBoolean() ? null : Event.create(Device.cuda(random.nextInt(3)), true));
      case 23 -> Graph.capture(random.nextBoolean() ? null : Stream.current(Device.CPU), null).close();
      default -> Check.notNull(a, "a").to(DType.values()[random.nextInt(3)], Device.CPU).close();
    }
  }

  @Test
  void tenThousandInvalidCallsEndInClearExceptions() {
    int thrown = 0;
    for (int i = 0; i < 10_000; i++) {
      args.clear();
      snapshot.clear();
      try {
        randomCall();
      } catch (IllegalArgumentException | IllegalStateException | MforceException expected) {
        if (expected.getMessage() == null || expected.getMessage().isBlank()) {
          fail("exception without a message at call " + i, expected);
        }
        assertUnchanged(i);
        thrown++;
      } catch (RuntimeException unexpected) {
        fail("call " + i + " threw " + unexpected, unexpected);
      }
      if (pool.size() > 200) {
        pool.forEach(Tensor::close);
        pool.clear();
      }
    }
    pool.forEach(Tensor::close);
    assertTrue(thrown > 9_000, "only " + thrown + " of 10000 calls were rejected");
  }
}
