package io.mforce.nn;

import io.mforce.bindings.LayersNative;
import io.mforce.runtime.Check;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import io.mforce.runtime.Tensor;
import java.util.Arrays;

/**
 * The layer kernels of DESIGN §2 (mforce/layers.h), checked and dispatched to the CPU or CUDA
 * implementation by the tensors' device.
 *
 * <p>Token tensors are [..., dim]: contiguous, F32 or BF16, all of one dtype and device; they
 * are treated as [rows, dim] with rows the product of the leading dims. Parameters (gamma,
 * beta, weight, bias, tables) and their gradients are F32 on the same device, and gradients are
 * ACCUMULATED (+=). Modulation vectors ({@link ModVector}) are F32, one per group: a modulated
 * token tensor is [groups, ..., dim] with the groups first. Outputs are overwritten unless
 * {@code accumulate} is set; which outputs may alias which inputs is said per method. Any two
 * tensor arguments are the same tensor or share no memory (a partial overlap would make the
 * result depend on the order the kernel visits rows); a modulation vector counts as its whole
 * tensor.
 */
public final class LayerKernels {
  private LayerKernels() {}

  /** The checked geometry of a token tensor: [rows, dim] after flattening. */
  private record Tokens(Device device, DType dtype, long rows, long dim, long stream) {
    int dev() {
      return device.kind().code();
    }
  }

  // ------------------------------------------------------------------ norms

  /**
   * LayerNorm over the last dim, fused with an optional affine (gamma, beta: F32 [dim], both or
   * neither) and an optional AdaLN modulation (shift, scale, both or neither):
   * {@code y = (gamma·xhat + beta)·(1 + scale[g]) + shift[g]}. x, y: [groups, ..., dim] when
   * modulated, [..., dim] otherwise; mean, rstd: F32 with one value per row (the numel of x
   * over dim), or null when no backward follows. y may be x.
   */
  public static void layerNormForward(Tensor x, float eps, Tensor gamma, Tensor beta, ModVector shift,
                                      ModVector scale, Tensor y, Tensor mean, Tensor rstd) {
    String op = "layerNorm";
    Tokens g = tokens(op, "x", x);
    Check.finite(op, "eps", eps);
    positive(op, "eps", eps);
    like(op, g, "y", y, "x", x);
    affine(op, g, gamma, beta);
    bothOrNeither(op, "shift", shift, "scale", scale);
    long groups = groupsOf(op, x, scale);
    modVector(op, g, "shift", shift, groups);
    modVector(op, g, "scale", scale, groups);
    optionalRowStats(op, g, "mean", mean);
    optionalRowStats(op, g, "rstd", rstd);
    Check.pairwiseSameOrDisjoint(op, "x", x, "gamma", gamma, "beta", beta, "shift", mod(shift), "scale", mod(scale),
        "y", y, "mean", mean, "rstd", rstd);
    call(op, LayersNative.mf_layernorm_forward(g.dev(), g.stream(), g.dtype().code(), groups, g.rows() / groups,
        g.dim(), eps, x.address(), addr(gamma), addr(beta), addr(shift), addr(scale), stride(scale), y.address(),
        addr(mean), addr(rstd)), x, gamma, beta, shift, scale, y, mean, rstd);
  }

  /**
   * Backward of {@link #layerNormForward} from its saved mean and rstd: dx (= or += when
   * accumulate; dx may be dy when not accumulating), dgamma and dbeta += (given exactly when
   * gamma is), dshift and dscale overwritten (given exactly when scale is).
   */
  public static void layerNormBackward(Tensor x, Tensor gamma, Tensor beta, ModVector scale, Tensor mean, Tensor rstd,
                                       Tensor dy, Tensor dx, boolean accumulate, Tensor dgamma, Tensor dbeta,
                                       ModVector dshift, ModVector dscale) {
    String op = "layerNorm.backward";
    Tokens g = tokens(op, "x", x);
    like(op, g, "dy", dy, "x", x);
    like(op, g, "dx", dx, "x", x);
    affine(op, g, gamma, beta);
    if ((gamma == null) != (dgamma == null) || (gamma == null) != (dbeta == null)) {
      throw new IllegalArgumentException(op + ": dgamma and dbeta must be given exactly when gamma and beta are");
    }
    if (gamma != null) {
      param(op, g, "dgamma", dgamma, g.dim());
      param(op, g, "dbeta", dbeta, g.dim());
    }
    if ((scale == null) != (dshift == null) || (scale == null) != (dscale == null)) {
      throw new IllegalArgumentException(op + ": dshift and dscale must be given exactly when scale is");
    }
    long groups = groupsOf(op, x, scale);
    modVector(op, g, "scale", scale, groups);
    modVector(op, g, "dshift", dshift, groups);
    modVector(op, g, "dscale", dscale, groups);
    rowStats(op, g, "mean", mean);
    rowStats(op, g, "rstd", rstd);
    Check.pairwiseSameOrDisjoint(op, "x", x, "gamma", gamma, "beta", beta, "scale", mod(scale), "mean", mean, "rstd",
        rstd, "dy", dy, "dx", dx, "dgamma", dgamma, "dbeta", dbeta, "dshift", mod(dshift), "dscale", mod(dscale));
    if (accumulate && sameMemory(dx, dy)) {
      throw new IllegalArgumentException(op + ": dx may be dy only when not accumulating");
    }
    call(op, LayersNative.mf_layernorm_backward(g.dev(), g.stream(), g.dtype().code(), groups, g.rows() / groups,
        g.dim(), x.address(), addr(gamma), addr(beta), addr(scale), stride(scale), mean.address(), rstd.address(),
        dy.address(), dx.address(), accumulate ? 1 : 0, addr(dgamma), addr(dbeta), addr(dshift), addr(dscale),
        sharedStride("layerNorm.backward", dshift, dscale)), x, gamma, beta, scale, mean, rstd, dy, dx, dgamma, dbeta, dshift, dscale);
  }

  /**
   * RMSNorm over the last dim (QK-norm: x [tokens, heads, head_dim] normalizes each head):
   * {@code y = x·rstd·weight}, weight F32 [dim]; rstd F32 per row or null. y may be x.
   */
  public static void rmsNormForward(Tensor x, float eps, Tensor weight, Tensor y, Tensor rstd) {
    String op = "rmsNorm";
    Tokens g = tokens(op, "x", x);
    Check.finite(op, "eps", eps);
    positive(op, "eps", eps);
    like(op, g, "y", y, "x", x);
    param(op, g, "weight", weight, g.dim());
    optionalRowStats(op, g, "rstd", rstd);
    Check.pairwiseSameOrDisjoint(op, "x", x, "weight", weight, "y", y, "rstd", rstd);
    call(op, LayersNative.mf_rmsnorm_forward(g.dev(), g.stream(), g.dtype().code(), g.rows(), g.dim(), eps,
        x.address(), weight.address(), y.address(), addr(rstd)), x, weight, y, rstd);
  }

  /** Backward of {@link #rmsNormForward}: dx (= or +=; may be dy when not accumulating), dweight +=. */
  public static void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, boolean accumulate,
                                     Tensor dweight) {
    String op = "rmsNorm.backward";
    Tokens g = tokens(op, "x", x);
    like(op, g, "dy", dy, "x", x);
    like(op, g, "dx", dx, "x", x);
    param(op, g, "weight", weight, g.dim());
    param(op, g, "dweight", dweight, g.dim());
    rowStats(op, g, "rstd", rstd);
    Check.pairwiseSameOrDisjoint(op, "x", x, "weight", weight, "rstd", rstd, "dy", dy, "dx", dx, "dweight", dweight);
    if (accumulate && sameMemory(dx, dy)) {
      throw new IllegalArgumentException(op + ": dx may be dy only when not accumulating");
    }
    call(op, LayersNative.mf_rmsnorm_backward(g.dev(), g.stream(), g.dtype().code(), g.rows(), g.dim(), x.address(),
        weight.address(), rstd.address(), dy.address(), dx.address(), accumulate ? 1 : 0, dweight.address()), x, weight, rstd, dy, dx, dweight);
  }

  // ------------------------------------------------------------------ residual, bias, activation

  /** {@code out = x + gate[g]·y}; x, y, out: [groups, ..., dim]; out may be x. */
  public static void gatedResidualForward(Tensor x, Tensor y, ModVector gate, Tensor out) {
    String op = "gatedResidual";
    Tokens g = tokens(op, "x", x);
    like(op, g, "y", y, "x", x);
    like(op, g, "out", out, "x", x);
    Check.notNull(gate, "gate");
    long groups = groupsOf(op, x, gate);
    modVector(op, g, "gate", gate, groups);
    Check.pairwiseSameOrDisjoint(op, "x", x, "y", y, "gate", gate.mod(), "out", out);
    call(op, LayersNative.mf_gated_residual_forward(g.dev(), g.stream(), g.dtype().code(), groups,
        g.rows() / groups, g.dim(), x.address(), y.address(), gate.address(), gate.stride(), out.address()), x, y, gate, out);
  }

  /**
   * Backward of {@link #gatedResidualForward}: dy = gate·dout and dgate = Σ dout·y per group,
   * both overwritten (dx is dout itself).
   */
  public static void gatedResidualBackward(Tensor y, ModVector gate, Tensor dout, Tensor dy, ModVector dgate) {
    String op = "gatedResidual.backward";
    Tokens g = tokens(op, "y", y);
    like(op, g, "dout", dout, "y", y);
    like(op, g, "dy", dy, "y", y);
    Check.notNull(gate, "gate");
    Check.notNull(dgate, "dgate");
    long groups = groupsOf(op, y, gate);
    modVector(op, g, "gate", gate, groups);
    modVector(op, g, "dgate", dgate, groups);
    Check.pairwiseSameOrDisjoint(op, "y", y, "gate", gate.mod(), "dout", dout, "dy", dy, "dgate", dgate.mod());
    call(op, LayersNative.mf_gated_residual_backward(g.dev(), g.stream(), g.dtype().code(), groups,
        g.rows() / groups, g.dim(), y.address(), gate.address(), gate.stride(), dout.address(), dy.address(),
        dgate.address(), dgate.stride()), y, gate, dout, dy, dgate);
  }

  /**
   * {@code h = x + bias; y = act(h)} over [..., cols]: bias F32 [cols] or null; h (the
   * pre-activation the backward needs) or null. h and y may each be x, not each other.
   */
  public static void biasActForward(Activation act, Tensor x, Tensor bias, Tensor h, Tensor y) {
    String op = "biasAct";
    Check.notNull(act, "act");
    Tokens g = tokens(op, "x", x);
    like(op, g, "y", y, "x", x);
    if (h != null) {
      like(op, g, "h", h, "x", x);
      Check.disjoint(op, "h", h, "y", y);
    }
    if (bias != null) {
      param(op, g, "bias", bias, g.dim());
    }
    Check.pairwiseSameOrDisjoint(op, "x", x, "bias", bias, "h", h, "y", y);
    call(op, LayersNative.mf_bias_act_forward(g.dev(), g.stream(), g.dtype().code(), g.rows(), g.dim(), act.code(),
        x.address(), addr(bias), addr(h), y.address()), x, bias, h, y);
  }

  /**
   * Backward of {@link #biasActForward}: {@code dh = act'(h)·dy} (= or += when accumulate;
   * null: not written; dh may be dy when not accumulating) and {@code dbias += Σ_rows
   * act'(h)·dy} (null: not computed). h may be null for {@link Activation#NONE}.
   */
  public static void biasActBackward(Activation act, Tensor h, Tensor dy, Tensor dh, boolean accumulate,
                                     Tensor dbias) {
    String op = "biasAct.backward";
    Check.notNull(act, "act");
    Tokens g = tokens(op, "dy", dy);
    if (act != Activation.NONE || h != null) {
      like(op, g, "h", h, "dy", dy);
    }
    if (dh != null) {
      like(op, g, "dh", dh, "dy", dy);
      if (accumulate && sameMemory(dh, dy)) {
        throw new IllegalArgumentException(op + ": dh may be dy only when not accumulating");
      }
    }
    if (dbias != null) {
      param(op, g, "dbias", dbias, g.dim());
    }
    Check.pairwiseSameOrDisjoint(op, "h", h, "dy", dy, "dh", dh, "dbias", dbias);
    call(op, LayersNative.mf_bias_act_backward(g.dev(), g.stream(), g.dtype().code(), g.rows(), g.dim(), act.code(),
        addr(h), dy.address(), addr(dh), accumulate ? 1 : 0, addr(dbias)), h, dy, dh, dbias);
  }

  // ------------------------------------------------------------------ conditioning

  /**
   * AdaLN modulation vectors: {@code mod[g, k] = base[g, k mod baseCount] + table[k]}. mod:
   * F32 [groups, count, dim]; table: F32 [count, dim]; base: F32 [groups, count, dim]
   * (baseCount = count) or [groups, dim] (baseCount = 1, one vector for every k).
   */
  public static void modulationForward(Tensor base, Tensor table, Tensor mod) {
    String op = "modulation";
    long[] m = modulationShape(op, base, table, mod, "mod");
    Check.pairwiseSameOrDisjoint(op, "base", base, "table", table, "mod", mod);
    call(op, LayersNative.mf_modulation_forward(mod.device().kind().code(), stream(mod), m[0], m[1], m[2], m[3],
        base.address(), table.address(), mod.address()), base, table, mod);
  }

  /**
   * Backward of {@link #modulationForward}: dbase (shaped like base; = or += when
   * accumulate; null: skipped; may be dmod when not accumulating) and dtable += Σ_g dmod[g].
   */
  public static void modulationBackward(Tensor dmod, Tensor dbase, boolean accumulate, Tensor dtable) {
    String op = "modulation.backward";
    Check.notNull(dtable, "dtable");
    long[] m = modulationShape(op, dbase, dtable, dmod, "dmod");
    Check.pairwiseSameOrDisjoint(op, "dmod", dmod, "dbase", dbase, "dtable", dtable);
    // dtable sums dmod after dbase is written: accumulated into dmod, it would sum dmod + dbase
    if (accumulate && sameMemory(dbase, dmod)) {
      throw new IllegalArgumentException(op + ": arguments 'dbase' and 'dmod' are the same memory; dbase may be dmod "
          + "only when not accumulating");
    }
    call(op, LayersNative.mf_modulation_backward(dmod.device().kind().code(), stream(dmod), m[0], m[1], m[2], m[3],
        dmod.address(), addr(dbase), accumulate ? 1 : 0, dtable.address()), dmod, dbase, dtable);
  }

  /**
   * Sinusoidal embedding of per-sample values t (F32 [batch], each in [0, 1], checked for CPU
   * tensors) into out (F32 [batch, dim], dim even): {@code out[b] = [cos(scale·t·f_i),
   * sin(scale·t·f_i)]} with {@code f_i = maxPeriod^(-i/(dim/2))}. With zeroNonpositive the rows
   * of samples with t &lt;= 0 are zero.
   */
  public static void timestepEmbedding(Tensor t, float scale, float maxPeriod, boolean zeroNonpositive, Tensor out) {
    String op = "timestepEmbedding";
    Check.contiguous(op, "t", t);
    Check.dtype(op, "t", t, DType.F32);
    Check.nonEmpty(op, "t", t);
    if (t.rank() != 1) {
      throw new IllegalArgumentException(op + ": argument 't' " + t.describe() + " must be [batch]");
    }
    f32(op, "out", out, t.device());
    if (out.rank() != 2 || out.size(0) != t.size(0) || out.size(1) == 0 || out.size(1) % 2 != 0) {
      throw new IllegalArgumentException(op + ": argument 'out' " + out.describe() + " must be [" + t.size(0)
          + ", dim] with dim even and positive");
    }
    Check.finite(op, "scale", scale);
    Check.finite(op, "maxPeriod", maxPeriod);
    if (!(maxPeriod > 1)) {
      throw new IllegalArgumentException(op + ": maxPeriod " + maxPeriod + " must exceed 1");
    }
    Check.rangeOnHost(op, "t", t, 0.0, 1.0);
    Check.disjoint(op, "t", t, "out", out);
    call(op, LayersNative.mf_timestep_embedding(t.device().kind().code(), stream(t), t.size(0), out.size(1),
        t.address(), scale, maxPeriod, zeroNonpositive ? 1 : 0, out.address()), t, out);
  }

  /**
   * Embedding lookup: {@code out[i] = table[ids[i]]}. ids: I32 [...] with every id in [0, vocab)
   * (checked; CUDA ids are copied to the host for it); table: F32 [vocab, dim]; out: [..., dim]
   * (the shape of ids plus dim), F32 or BF16.
   */
  public static void embeddingForward(Tensor ids, Tensor table, Tensor out) {
    String op = "embedding";
    embeddingShapes(op, ids, table, out, "out");
    checkIds(op, ids, table.size(0));
    Tokens g = tokens(op, "out", out);
    Check.pairwiseSameOrDisjoint(op, "ids", ids, "table", table, "out", out);
    call(op, LayersNative.mf_embedding_forward(g.dev(), g.stream(), g.dtype().code(), ids.numel(), table.size(1),
        table.size(0), ids.address(), table.address(), out.address()), ids, table, out);
  }

  /**
   * Backward of {@link #embeddingForward}: {@code dtable[v] += Σ_{i: ids[i] = v} dout[i]},
   * deterministic (each row summed in token order). The tokens are grouped by id on the host.
   */
  public static void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
    String op = "embedding.backward";
    embeddingShapes(op, ids, dtable, dout, "dout");
    int[] idsHost = checkIds(op, ids, dtable.size(0));
    Tokens g = tokens(op, "dout", dout);
    Check.pairwiseSameOrDisjoint(op, "ids", ids, "dout", dout, "dtable", dtable);
    // counting sort by id (stable): order lists the tokens of each id in token order
    int vocab = Math.toIntExact(dtable.size(0));
    int[] count = new int[vocab + 1];
    for (int id : idsHost) {
      count[id + 1]++;
    }
    for (int v = 0; v < vocab; v++) {
      count[v + 1] += count[v];
    }
    int[] order = new int[idsHost.length];
    int[] next = Arrays.copyOf(count, vocab);
    for (int i = 0; i < idsHost.length; i++) {
      order[next[idsHost[i]]++] = i;
    }
    int[] starts = new int[vocab + 1];
    int segments = 0;
    for (int v = 0; v < vocab; v++) {
      if (count[v + 1] > count[v]) {
        starts[segments++] = count[v];
      }
    }
    starts[segments] = idsHost.length;
    try (Tensor orderHost = Tensor.of(order, order.length);
         Tensor startsHost = Tensor.of(Arrays.copyOf(starts, segments + 1), segments + 1);
         Tensor orderDev = orderHost.to(g.device());
         Tensor startsDev = startsHost.to(g.device())) {
      // the index tensors may be closed right after the launch: the pool reuses their memory
      // in stream order only
      call(op, LayersNative.mf_embedding_backward(g.dev(), g.stream(), g.dtype().code(), ids.numel(), dtable.size(1),
          vocab, ids.address(), orderDev.address(), startsDev.address(), segments, dout.address(),
          dtable.address()), ids, dout, dtable);
    }
  }

  // ------------------------------------------------------------------ checks

  private static Tokens tokens(String op, String name, Tensor x) {
    Check.contiguous(op, name, x);
    Check.floatDtype(op, name, x);
    Check.nonEmpty(op, name, x);
    if (x.rank() < 1) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' is a scalar; expected [..., dim]");
    }
    long dim = x.size(-1);
    return new Tokens(x.device(), x.dtype(), x.numel() / dim, dim, stream(x));
  }

  private static void like(String op, Tokens g, String name, Tensor t, String refName, Tensor ref) {
    Check.contiguous(op, name, t);
    Check.sameShape(op, name, t, refName, ref);
    Check.sameDtype(op, name, t, refName, ref);
    Check.device(op, name, t, g.device());
  }

  /** A contiguous F32 tensor on {@code device}. */
  private static void f32(String op, String name, Tensor t, Device device) {
    Check.contiguous(op, name, t);
    Check.dtype(op, name, t, DType.F32);
    Check.device(op, name, t, device);
  }

  private static void param(String op, Tokens g, String name, Tensor p, long... shape) {
    f32(op, name, p, g.device());
    Check.shape(op, name, p, shape);
  }

  private static void affine(String op, Tokens g, Tensor gamma, Tensor beta) {
    if ((gamma == null) != (beta == null)) {
      throw new IllegalArgumentException(op + ": gamma and beta must both be given or both be null");
    }
    if (gamma != null) {
      param(op, g, "gamma", gamma, g.dim());
      param(op, g, "beta", beta, g.dim());
    }
  }

  private static void bothOrNeither(String op, String a, Object va, String b, Object vb) {
    if ((va == null) != (vb == null)) {
      throw new IllegalArgumentException(op + ": " + a + " and " + b + " must both be given or both be null");
    }
  }

  /** Groups of a modulated token tensor: its first dim, which must equal the modulation's groups. */
  private static long groupsOf(String op, Tensor x, ModVector mod) {
    if (mod == null) {
      return 1;
    }
    long groups = mod.groups();
    if (x.rank() < 2 || x.size(0) != groups) {
      throw new IllegalArgumentException(op + ": token tensor " + x.describe() + " must be [" + groups
          + ", ..., dim] to match the modulation's groups (" + mod + ")");
    }
    return groups;
  }

  private static void modVector(String op, Tokens g, String name, ModVector v, long groups) {
    if (v == null) {
      return;
    }
    Check.device(op, name, v.mod(), g.device());
    if (v.dim() != g.dim() || v.groups() != groups) {
      throw new IllegalArgumentException(op + ": modulation '" + name + "' (" + v + ") has " + v.groups()
          + " groups of dim " + v.dim() + "; expected " + groups + " groups of dim " + g.dim());
    }
  }

  private static void rowStats(String op, Tokens g, String name, Tensor t) {
    f32(op, name, t, g.device());
    if (t.numel() != g.rows()) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' " + t.describe() + " has " + t.numel()
          + " elements; expected one per row (" + g.rows() + ")");
    }
  }

  private static void optionalRowStats(String op, Tokens g, String name, Tensor t) {
    if (t != null) {
      rowStats(op, g, name, t);
    }
  }

  /** {groups, count, dim, baseCount} of a modulation call (base may be null for the backward). */
  private static long[] modulationShape(String op, Tensor base, Tensor table, Tensor mod, String modName) {
    Check.contiguous(op, modName, mod);
    Check.dtype(op, modName, mod, DType.F32);
    Check.nonEmpty(op, modName, mod);
    if (mod.rank() != 3) {
      throw new IllegalArgumentException(op + ": argument '" + modName + "' " + mod.describe()
          + " must be [groups, count, dim]");
    }
    long groups = mod.size(0);
    long count = mod.size(1);
    long dim = mod.size(2);
    String tableName = modName.equals("mod") ? "table" : "dtable";
    f32(op, tableName, table, mod.device());
    Check.shape(op, tableName, table, count, dim);
    long baseCount = count;
    if (base != null) {
      String baseName = modName.equals("mod") ? "base" : "dbase";
      f32(op, baseName, base, mod.device());
      if (base.rank() == 2 && Arrays.equals(base.shape(), new long[] {groups, dim})) {
        baseCount = 1;
      } else if (!Arrays.equals(base.shape(), mod.shape())) {
        throw new IllegalArgumentException(op + ": argument '" + baseName + "' has shape "
            + Arrays.toString(base.shape()) + "; expected [" + groups + ", " + count + ", " + dim + "] or ["
            + groups + ", " + dim + "]");
      }
    } else if (modName.equals("mod")) {
      throw new IllegalArgumentException(op + ": argument 'base' is null");
    }
    return new long[] {groups, count, dim, baseCount};
  }

  private static void embeddingShapes(String op, Tensor ids, Tensor table, Tensor out, String outName) {
    Check.contiguous(op, "ids", ids);
    Check.dtype(op, "ids", ids, DType.I32);
    Check.nonEmpty(op, "ids", ids);
    String tableName = outName.equals("out") ? "table" : "dtable";
    f32(op, tableName, table, ids.device());
    Check.nonEmpty(op, tableName, table);
    if (table.rank() != 2) {
      throw new IllegalArgumentException(op + ": argument '" + tableName + "' " + table.describe()
          + " must be [vocab, dim]");
    }
    Check.contiguous(op, outName, out);
    Check.floatDtype(op, outName, out);
    Check.device(op, outName, out, ids.device());
    long[] expected = Arrays.copyOf(ids.shape(), ids.rank() + 1);
    expected[ids.rank()] = table.size(1);
    Check.shape(op, outName, out, expected);
  }

  /** The ids on the host, each checked to lie in [0, vocab). */
  private static int[] checkIds(String op, Tensor ids, long vocab) {
    int[] host = ids.toIntArray();
    for (int i = 0; i < host.length; i++) {
      if (host[i] < 0 || host[i] >= vocab) {
        throw new IllegalArgumentException(op + ": ids[" + i + "] = " + host[i] + " is outside the vocabulary [0, "
            + vocab + ")");
      }
    }
    return host;
  }

  private static void positive(String op, String name, float v) {
    if (!(v > 0)) {
      throw new IllegalArgumentException(op + ": argument '" + name + "' = " + v + "; expected a positive value");
    }
  }

  private static boolean sameMemory(Tensor a, Tensor b) {
    return a != null && b != null && a.address() == b.address();
  }

  private static long addr(Tensor t) {
    return t == null ? 0 : t.address();
  }

  private static long addr(ModVector v) {
    return v == null ? 0 : v.address();
  }

  /** The tensor a modulation vector lies in, or null: what the overlap checks compare. */
  private static Tensor mod(ModVector v) {
    return v == null ? null : v.mod();
  }

  /** The one stride two gradient vectors written by the same kernel must share. */
  private static long sharedStride(String op, ModVector a, ModVector b) {
    if (a == null) {
      return 0;
    }
    if (a.stride() != b.stride()) {
      throw new IllegalArgumentException(op + ": the two modulation gradients (" + a + ", " + b
          + ") must come from tensors of one layout");
    }
    return a.stride();
  }

  private static long stride(ModVector v) {
    return v == null ? 0 : v.stride();
  }

  private static long stream(Tensor t) {
    return Stream.current(t.device()).handle();
  }

  private static void call(String op, int status, Object... operands) {
    NativeCalls.check(status, op, operands);
  }
}
