package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link AttentionProblem} as tensors on a device, ready for {@link JointAttention}, each
 * [B, L, heads, D] run a view of a larger parent laid out as {@link Layout} says. Input padding
 * holds NaN (a kernel that reads it poisons its results), output padding is NaN and must stay so.
 * Every output starts as NaN.
 */
final class AttentionLaunch implements AttentionOutputs, AutoCloseable {

  /** Where a run's elements sit in its parent. */
  enum Layout {
    /** The parent is the run. */
    DENSE,
    /** One padding token before and after each batch entry's run: batch stride (L + 2)·heads·D. */
    PADDED_TOKENS,
    /** A padding head after each token's heads (a fused buffer): token stride (heads + 1)·D. */
    PADDED_HEADS,
    /**
     * The run starts 4 elements into its parent: for bf16, 8 bytes past a 16-byte boundary, which
     * sends the CUDA attention from its tensor-core kernels (16-byte row loads) to the general ones.
     */
    MISALIGNED;

    /** Elements of the parent of a [b, len, heads, d] run. */
    long parentSize(int b, int len, int heads, int d) {
      return switch (this) {
        case DENSE -> (long) b * len * heads * d;
        case PADDED_TOKENS -> (long) b * (len + 2) * heads * d;
        case PADDED_HEADS -> (long) b * len * (heads + 1) * d;
        case MISALIGNED -> (long) b * len * heads * d + 4;
      };
    }

    /** Where element i of the dense [b, len, heads, d] run sits in the parent. */
    int index(int i, int len, int heads, int d) {
      int row = heads * d;
      int token = i / row;  // b * len + t
      int inRow = i % row;
      return switch (this) {
        case DENSE -> i;
        case PADDED_TOKENS -> ((token / len) * (len + 2) + token % len + 1) * row + inRow;
        case PADDED_HEADS -> token * (row + d) + inRow;
        case MISALIGNED -> i + 4;
      };
    }

    /** The [b, len, heads, d] view of {@code parent} (a new tensor sharing its memory). */
    Tensor view(Tensor parent, int b, int len, int heads, int d) {
      return switch (this) {
        case DENSE -> parent.narrow(0, 0, b);
        case PADDED_TOKENS -> parent.narrow(1, 1, len);
        case PADDED_HEADS -> parent.narrow(2, 0, heads);
        case MISALIGNED -> {
          try (Tensor flat = parent.narrow(0, 4, (long) b * len * heads * d)) {
            yield flat.view(b, len, heads, d);
          }
        }
      };
    }

    /** The parent's shape. */
    long[] parentShape(int b, int len, int heads, int d) {
      return switch (this) {
        case DENSE -> new long[] {b, len, heads, d};
        case PADDED_TOKENS -> new long[] {b, len + 2, heads, d};
        case PADDED_HEADS -> new long[] {b, len, heads + 1, d};
        case MISALIGNED -> new long[] {parentSize(b, len, heads, d)};
      };
    }
  }

  private record Placed(Tensor parent, int len, int heads) {}

  private final AttentionProblem p;
  private final Layout layout;
  private final List<Tensor> owned = new ArrayList<>();
  private final Map<Tensor, Placed> outputParents = new IdentityHashMap<>();  // view -> parent
  private final List<QueryRun> queryRuns = new ArrayList<>();
  private final List<KeyRun> keyRuns = new ArrayList<>();
  private final Tensor[] out;
  private final Tensor[] lse;
  private final Tensor[] gradQ;
  private final Tensor[] gradK;
  private final Tensor[] gradV;

  AttentionLaunch(AttentionProblem p, Device device, Layout layout) {
    this.p = p;
    this.layout = layout;
    int h = p.config.heads();
    int g = p.config.kvHeads();
    int nq = p.queries.size();
    out = new Tensor[nq];
    lse = new Tensor[nq];
    gradQ = new Tensor[nq];
    for (int r = 0; r < nq; r++) {
      AttentionProblem.Queries run = p.queries.get(r);
      Tensor q = input(run.q, run.len(), h, device);
      Tensor gradOut = input(run.gradOut, run.len(), h, device);
      out[r] = output(run.len(), h, device);
      gradQ[r] = output(run.len(), h, device);
      lse[r] = keep(Tensor.full(DType.F32, device, Double.NaN, p.batch, h, run.len()));
      queryRuns.add(QueryRun.of(q, chunks(run.chunks, device), out[r], lse[r]).withGradients(gradOut, gradQ[r]));
    }
    int ns = p.keys.size();
    gradK = new Tensor[ns];
    gradV = new Tensor[ns];
    for (int s = 0; s < ns; s++) {
      AttentionProblem.Keys keys = p.keys.get(s);
      KeyRun run = KeyRun.of(input(keys.k, keys.len(), g, device), input(keys.v, keys.len(), g, device),
          chunks(keys.chunks, device)).withRelation(keys.relation);
      if (keys.grads) {
        gradK[s] = output(keys.len(), g, device);
        gradV[s] = output(keys.len(), g, device);
        run = run.withGradients(gradK[s], gradV[s]);
      }
      keyRuns.add(run);
    }
  }

  List<QueryRun> queries() {
    return queryRuns;
  }

  List<KeyRun> keys() {
    return keyRuns;
  }

  @Override
  public double[] out(int r) {
    return read(out[r]);
  }

  @Override
  public double[] lse(int r) {
    return toDoubles(lse[r].toFloatArray());
  }

  @Override
  public double[] gradQ(int r) {
    return read(gradQ[r]);
  }

  @Override
  public double[] gradK(int s) {
    return read(gradK[s]);
  }

  @Override
  public double[] gradV(int s) {
    return read(gradV[s]);
  }

  /** Sets every gradient output (gradQ, gradK, gradV, with their padding) to NaN again, as before the first call. */
  void poisonGradients() {
    for (Tensor[] outputs : new Tensor[][] {gradQ, gradK, gradV}) {
      for (Tensor t : outputs) {
        if (t != null) {
          outputParents.get(t).parent().fill(Double.NaN);
        }
      }
    }
  }

  /** Every padding element of every output parent is still NaN. */
  void assertPaddingUntouched() {
    for (Placed placed : outputParents.values()) {
      float[] all = placed.parent.toFloatArray();
      boolean[] inRun = new boolean[all.length];
      int n = p.batch * placed.len * placed.heads * p.config.headDim();
      for (int i = 0; i < n; i++) {
        inRun[layout.index(i, placed.len, placed.heads, p.config.headDim())] = true;
      }
      for (int i = 0; i < all.length; i++) {
        assertTrue(inRun[i] || Float.isNaN(all[i]), "padding element " + i + " of an output was written: " + all[i]);
      }
    }
  }

  @Override
  public void close() {
    for (Tensor t : owned) {
      t.close();
    }
  }

  // ---------------------------------------------------------------- tensors

  private Tensor keep(Tensor t) {
    owned.add(t);
    return t;
  }

  /** A [B, len, heads, D] view holding {@code data}, padding NaN. */
  private Tensor input(double[] data, int len, int heads, Device device) {
    int d = p.config.headDim();
    float[] host = new float[Math.toIntExact(layout.parentSize(p.batch, len, heads, d))];
    Arrays.fill(host, Float.NaN);
    for (int i = 0; i < data.length; i++) {
      host[layout.index(i, len, heads, d)] = (float) data[i];
    }
    Tensor parent = keep(Tensor.of(host, p.dtype, device, layout.parentShape(p.batch, len, heads, d)));
    return keep(layout.view(parent, p.batch, len, heads, d));
  }

  /** A NaN-filled [B, len, heads, D] view. */
  private Tensor output(int len, int heads, Device device) {
    int d = p.config.headDim();
    Tensor parent = keep(Tensor.full(p.dtype, device, Double.NaN, layout.parentShape(p.batch, len, heads, d)));
    Tensor view = keep(layout.view(parent, p.batch, len, heads, d));
    outputParents.put(view, new Placed(parent, len, heads));
    return view;
  }

  private Tensor chunks(int[] chunks, Device device) {
    try (Tensor host = Tensor.of(chunks, chunks.length)) {
      return keep(host.to(DType.I32, device));
    }
  }

  /** The [B, len, heads, D] view's values, read through its parent. */
  private double[] read(Tensor view) {
    Placed placed = outputParents.get(view);
    int d = p.config.headDim();
    float[] all = placed.parent.toFloatArray();
    double[] values = new double[p.batch * placed.len * placed.heads * d];
    for (int i = 0; i < values.length; i++) {
      values[i] = all[layout.index(i, placed.len, placed.heads, d)];
    }
    return values;
  }

  static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
