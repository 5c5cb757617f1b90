package io.mforce.bench;

import io.mforce.nn.attention.JointAttention;
import io.mforce.nn.attention.KeyRun;
import io.mforce.nn.attention.QueryRun;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU joint attention at the tiny model's training shape (DESIGN §3: 32x32 video as 64 video
 * tokens and 4 audio tokens per chunk): one masked pass of every video and audio query over the
 * video and audio keys of a clip (teacher forcing), forward, and backward with gradients for
 * both sources. Run: {@code java -cp <test classpath> org.openjdk.jmh.Main AttentionCpuBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AttentionCpuBench {
  @Param({"16"})
  public int chunks;
  @Param({"2"})
  public int batch;
  @Param({"1"})
  public int heads;
  @Param({"64"})
  public int headDim;
  @Param({"F32", "BF16"})
  public String dtype;

  private final List<Tensor> owned = new ArrayList<>();
  private JointAttention attention;
  private List<QueryRun> queries;
  private List<KeyRun> keys;

  @Setup
  public void setUp() {
    DType type = DType.valueOf(dtype);
    Random random = new Random(1);
    int videoLen = chunks * 64;
    int audioLen = chunks * 4;
    attention = new JointAttention(JointAttention.Config.causal(heads, heads, headDim));
    queries = List.of(queryRun(random, type, videoLen, 64), queryRun(random, type, audioLen, 4));
    keys = List.of(keyRun(random, type, videoLen, 64), keyRun(random, type, audioLen, 4));
    attention.forward(queries, keys);
  }

  private QueryRun queryRun(Random random, DType type, int len, int tokensPerChunk) {
    return QueryRun.of(data(random, type, len), chunkIds(len, tokensPerChunk), data(random, type, len),
        keep(Tensor.zeros(DType.F32, Device.CPU, batch, heads, len)))
        .withGradients(data(random, type, len), data(random, type, len));
  }

  private KeyRun keyRun(Random random, DType type, int len, int tokensPerChunk) {
    return KeyRun.of(data(random, type, len), data(random, type, len), chunkIds(len, tokensPerChunk))
        .withGradients(data(random, type, len), data(random, type, len));
  }

  private Tensor data(Random random, DType type, int len) {
    float[] values = new float[batch * len * heads * headDim];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return keep(Tensor.of(values, type, Device.CPU, batch, len, heads, headDim));
  }

  private Tensor chunkIds(int len, int tokensPerChunk) {
    int[] ids = new int[len];
    for (int i = 0; i < len; i++) {
      ids[i] = i / tokensPerChunk;
    }
    return keep(Tensor.of(ids, len));
  }

  private Tensor keep(Tensor t) {
    owned.add(t);
    return t;
  }

  @Benchmark
  public void forward() {
    attention.forward(queries, keys);
  }

  @Benchmark
  public void backward() {
    attention.backward(queries, keys);
  }

  @TearDown
  public void tearDown() {
    attention.close();
    owned.forEach(Tensor::close);
  }
}
