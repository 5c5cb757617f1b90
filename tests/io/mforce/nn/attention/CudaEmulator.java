package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mforce.runtime.DType;
import io.mforce.testing.Processes;
import io.mforce.testing.Processes.Result;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host emulator of the CUDA attention kernels (tools/cuda-emu: PTX instruction semantics as
 * NVIDIA's PTX ISA documents them, threads as fibers; not a GPU): builds its driver with g++ and
 * runs problems through it.
 */
final class CudaEmulator {
  private final Path driver;

  private CudaEmulator(Path driver) {
    this.driver = driver;
  }

  /** Builds the driver from this checkout's sources into {@code driver} (tools/cuda-emu/build.sh). */
  static CudaEmulator build(Path driver) throws IOException {
    Files.createDirectories(driver.getParent());
    Result r = Processes.run(List.of("sh", "tools/cuda-emu/build.sh", driver.toString()), 600);
    assertEquals(0, r.exitCode(), "building the emulator failed:\n" + r.output());
    return new CudaEmulator(driver);
  }

  /** The driver run with {@code args}: exit code and everything it printed. */
  Result driver(List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(driver.toString()));
    command.addAll(args);
    return Processes.run(command, 600);
  }

  /**
   * Forward and backward of {@code p} on the emulated kernels (driver --problem; dense runs, or
   * with {@code pad} elements after each token's heads; {@code deterministic}: the problem's
   * flag, which picks the tensor-core backward's dQ mode), through files in {@code dir}.
   */
  HostOutputs run(AttentionProblem p, int pad, boolean deterministic, Path dir) throws IOException {
    Path in = dir.resolve("problem.bin");
    Path out = dir.resolve("outputs.bin");
    Files.write(in, encode(p, pad, deterministic));
    Result r = driver(List.of("--problem", in.toString(), out.toString()));
    assertEquals(0, r.exitCode(), "the emulated attention failed:\n" + r.output());
    return decode(p, Files.readAllBytes(out));
  }

  /** The problem file of tools/cuda-emu/driver.cpp (run_file): little-endian int32 and float32. */
  private static byte[] encode(AttentionProblem p, int pad, boolean deterministic) {
    JointAttention.Config c = p.config;
    long floats = 0;
    long ints = 12;
    for (AttentionProblem.Queries q : p.queries) {
      floats += 2L * q.q.length;
      ints += 1 + q.len();
    }
    for (AttentionProblem.Keys k : p.keys) {
      floats += 2L * k.k.length;
      ints += 3 + k.len();
    }
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(4 * (ints + floats))).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(p.dtype == DType.BF16 ? 1 : 0).putInt(p.batch).putInt(c.heads()).putInt(c.kvHeads())
        .putInt(c.headDim()).putInt(c.masked() ? 1 : 0).putInt(c.window()).putInt(c.sinks())
        .putInt(p.queries.size()).putInt(p.keys.size()).putInt(pad).putInt(deterministic ? 1 : 0);
    for (AttentionProblem.Queries q : p.queries) {
      b.putInt(q.len());
      for (int x : q.chunks) {
        b.putInt(x);
      }
      putFloats(b, q.q);
      putFloats(b, q.gradOut);
    }
    for (AttentionProblem.Keys k : p.keys) {
      b.putInt(k.len()).putInt(k.relation.code()).putInt(k.grads ? 1 : 0);
      for (int x : k.chunks) {
        b.putInt(x);
      }
      putFloats(b, k.k);
      putFloats(b, k.v);
    }
    return b.array();
  }

  private static HostOutputs decode(AttentionProblem p, byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    HostOutputs o = HostOutputs.zeros(p);
    for (int r = 0; r < p.queries.size(); r++) {
      getFloats(b, o.out(r));
      getFloats(b, o.lse(r));
      getFloats(b, o.gradQ(r));
    }
    for (int s = 0; s < p.keys.size(); s++) {
      if (p.keys.get(s).grads) {
        getFloats(b, o.gradK(s));
        getFloats(b, o.gradV(s));
      }
    }
    assertEquals(0, b.remaining(), "bytes left over in the emulator's outputs");
    return o;
  }

  private static void putFloats(ByteBuffer b, double[] values) {
    for (double v : values) {
      b.putFloat((float) v);
    }
  }

  private static void getFloats(ByteBuffer b, double[] into) {
    for (int i = 0; i < into.length; i++) {
      into[i] = b.getFloat();
    }
  }
}
