package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link AttentionProblem} as tensors on a device, ready for {@link JointAttention}. With
 * {@code strided}, every run is a view of a longer parent [B, L + 2, heads, D] (one padding token
 * before and after each batch entry's run): input padding holds NaN (a kernel that reads it
 * poisons its results), output padding is NaN and must stay so. Every output starts as NaN.
 */
final class AttentionLaunch implements AutoCloseable {
  private final AttentionProblem p;
  private final int pad;
  private final List<Tensor> owned = new ArrayList<>();
  private final Map<Tensor, Tensor> outputParents = new IdentityHashMap<>();  // view -> parent
  private final List<QueryRun> queryRuns = new ArrayList<>();
  private final List<KeyRun> keyRuns = new ArrayList<>();
  private final Tensor[] out;
  private final Tensor[] lse;
  private final Tensor[] gradQ;
  private final Tensor[] gradK;
  private final Tensor[] gradV;

  AttentionLaunch(AttentionProblem p, Device device, boolean strided) {
    this.p = p;
    this.pad = strided ? 1 : 0;
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
          chunks(keys.chunks, device));
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

  double[] out(int r) {
    return read(out[r]);
  }

  double[] lse(int r) {
    return toDoubles(lse[r].toFloatArray());
  }

  double[] gradQ(int r) {
    return read(gradQ[r]);
  }

  double[] gradK(int s) {
    return read(gradK[s]);
  }

  double[] gradV(int s) {
    return read(gradV[s]);
  }

  /** Every padding token of every output parent is still NaN. */
  void assertPaddingUntouched() {
    for (Tensor parent : outputParents.values()) {
      long len = parent.size(1);
      long row = parent.size(2) * parent.size(3);
      float[] all = parent.toFloatArray();
      for (int i = 0; i < all.length; i++) {
        long token = (i / row) % len;
        if (token < pad || token >= len - pad) {
          assertTrue(Float.isNaN(all[i]), "padding element " + i + " of an output was written: " + all[i]);
        }
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
    int row = heads * p.config.headDim();
    int parentLen = len + 2 * pad;
    float[] host = new float[p.batch * parentLen * row];
    java.util.Arrays.fill(host, Float.NaN);
    for (int b = 0; b < p.batch; b++) {
      for (int i = 0; i < len * row; i++) {
        host[(b * parentLen + pad) * row + i] = (float) data[b * len * row + i];
      }
    }
    Tensor parent = keep(Tensor.of(host, p.dtype, device, p.batch, parentLen, heads, p.config.headDim()));
    return keep(parent.narrow(1, pad, len));
  }

  /** A NaN-filled [B, len, heads, D] view. */
  private Tensor output(int len, int heads, Device device) {
    Tensor parent = keep(Tensor.full(p.dtype, device, Double.NaN, p.batch, len + 2L * pad, heads,
        p.config.headDim()));
    Tensor view = keep(parent.narrow(1, pad, len));
    outputParents.put(view, parent);
    return view;
  }

  private Tensor chunks(int[] chunks, Device device) {
    try (Tensor host = Tensor.of(chunks, chunks.length)) {
      return keep(host.to(DType.I32, device));
    }
  }

  /** The [B, len, heads, D] view's values, read through its parent. */
  private double[] read(Tensor view) {
    Tensor parent = outputParents.get(view);
    long parentLen = parent.size(1);
    int len = Math.toIntExact(view.size(1));
    int row = Math.toIntExact(view.size(2) * view.size(3));
    float[] all = parent.toFloatArray();
    double[] out = new double[p.batch * len * row];
    for (int b = 0; b < p.batch; b++) {
      for (int i = 0; i < len * row; i++) {
        out[b * len * row + i] = all[(int) ((b * parentLen + pad) * row + i)];
      }
    }
    return out;
  }

  static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
