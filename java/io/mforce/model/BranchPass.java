package io.mforce.model;

import io.mforce.nn.AdaLnModulation;
import io.mforce.nn.FeedForward;
import io.mforce.nn.GatedResidual;
import io.mforce.nn.LayerNorm;
import io.mforce.nn.Linear;
import io.mforce.nn.ModVector;
import io.mforce.nn.ModulationProjection;
import io.mforce.nn.RmsNorm;
import io.mforce.nn.Saved;
import io.mforce.nn.TimeEmbedding;
import io.mforce.nn.attention.KeyRun;
import io.mforce.nn.attention.QueryRun;
import io.mforce.nn.attention.Rope3D;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.RowCopy;
import io.mforce.runtime.Tensor;

/**
 * One branch of the model over one {@link Part} of a pass: the branch's activations (llm.c's
 * "acts": everything its backward reads) and the block computed in the phases the joint
 * attention splits it into. Shapes: G = B·S groups, T tokens per chunk, D width, H heads of hd;
 * the residual stream x [G, T, D]; attention tensors [B, S·T, H, hd] (views of [G, T, D]).
 *
 * <pre>
 * stem      video: x = patch_embed(tokens)           audio: x = [patch_embed(tokens); transcript]
 * time      e = time(t, d) [G, D];  e0 = time_projection(e) [G, 6, D]
 * layer l   mod = modulation(e0)
 *   pre     n1 = LN(x)·(1 + scale_msa) + shift_msa;  q, k = RoPE(norm_q/k(q/k(n1)));  v = v(n1)
 *   (joint self-attention over the plan's key sources → out)
 *   middle  x1 = x + gate_msa·o(out);  n3 = LN_affine(x1);  cq = norm_q(cross.q(n3))
 *   (cross-attention to the condition keys → cout)
 *   post    x2 = x1 + cross.o(cout);  x3 = x2 + gate_mlp·ffn(LN(x2)·(1 + scale_mlp) + shift_mlp)
 * head      out = unembed(LN(x)·(1 + scale) + shift), (shift, scale) = head_modulation(e)
 * </pre>
 * A part without output stops its last layer after the keys and values (nothing reads the rest).
 * The backward runs the phases in reverse; the caller runs the attention backwards between them.
 */
final class BranchPass extends Saved {
  private final Modality modality;
  private final ModelLayers.Branch branch;
  private final ModelConfig config;
  private final Part part;
  private final Rope3D rope;
  private final boolean keep;
  private final long batch;
  private final long groups;
  private final long tokens;
  private final long dim;
  private final long[] heads4;
  private final DType dtype;
  private final Device device;
  private final Layer[] layers;
  private final TimeEmbedding.Ctx time;
  private final ModulationProjection.Ctx projection;
  private final Linear.Ctx embed;
  private final Part.Inputs inputs;
  private Tensor x;        // the residual stream entering the next layer (a view this object owns)
  private AdaLnModulation.Ctx headMod;
  private LayerNorm.Ctx headNorm;
  private Linear.Ctx unembed;
  private Tensor velocity; // [G, T_in, P]: the head's output without the transcript row
  // backward state
  private Tensor dx;       // gradient of the residual stream at the current layer boundary
  private Tensor de;       // [G, D]
  private Tensor de0;      // [G, 6, D]

  /** Runs the stem and the time path; {@code keep}: keep every activation for a backward. */
  BranchPass(Modality modality, ModelLayers model, Part part, Part.Inputs in, Rope3D rope, DType dtype,
             boolean keep) {
    this.modality = modality;
    this.branch = modality.branch(model);
    this.config = model.config();
    this.part = part;
    this.rope = rope;
    this.keep = keep;
    this.inputs = in;
    this.batch = part.batch();
    this.groups = part.groups();
    this.tokens = new TokenLayout(config).tokensPerChunk(modality);
    this.dim = config.width();
    this.heads4 = new long[] {batch, part.slots() * tokens, config.heads(), config.headDim()};
    this.dtype = dtype;
    this.device = in.t().device();
    this.layers = new Layer[config.layers()];
    try {
      time = own(branch.time().forward(in.t(), in.d()));
      projection = own(branch.projection().forward(time.e()));
      Tensor raw = modality == Modality.VIDEO ? in.video() : in.audio();
      embed = own(branch.patchEmbed().forward(raw));
      if (modality == Modality.VIDEO) {
        advance(embed.y());
      } else {
        try (Tensor x0 = Tensor.empty(dtype, device, groups, tokens, dim)) {
          int na = config.audioTokensPerChunk();
          rows(embed.y(), 0, x0, 0, na);
          rows(in.transcript().tokens(), 0, x0, na, config.transcriptTokensPerChunk());
          advance(x0);
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  Modality modality() {
    return modality;
  }

  /** Whether layer l computes queries and everything after the attention. */
  boolean continues(int layer) {
    return part.output() || layer < layers.length - 1;
  }

  // ------------------------------------------------------------------ forward phases

  /** Modulation, norm1, k, v and (if the layer continues) q, QK-norms; nothing rotated yet. */
  void pre(int l) {
    Layer a = layers[l] = own(new Layer());
    ModelLayers.Block block = branch.blocks().get(l);
    ModelLayers.Attention att = block.selfAttention();
    a.x = a.hold(x);
    a.mod = a.take(block.modulation().forward(projection.e0()));
    a.n1 = a.take(block.norm1().forward(x, a.mod.vector(AdaLnModulation.SHIFT_MSA),
        a.mod.vector(AdaLnModulation.SCALE_MSA)));
    if (continues(l)) {
      a.q = a.take(att.q().forward(a.n1.y()));
      a.qn = a.take(norm(att.normQ(), a.q.y()));
    }
    a.k = a.take(att.k().forward(a.n1.y()));
    a.kn = a.take(norm(att.normK(), a.k.y()));
    a.v = a.take(att.v().forward(a.n1.y()));
    a.v4 = a.take(a.v.y().view(heads4));
  }

  /** Layer l's keys [B, S·T, H, hd] before rotation (to be written into a cache). */
  Tensor rawKeys(int l) {
    return layers[l].kn.y();
  }

  /** Layer l's values [B, S·T, H, hd]. */
  Tensor values(int l) {
    return layers[l].v4;
  }

  /** RoPE on layer l's queries and keys, in place. */
  void rotate(int l) {
    Layer a = layers[l];
    if (a.qn != null) {
      rope.apply(a.qn.y(), part.positions(modality), a.qn.y());
    }
    rope.apply(a.kn.y(), part.positions(modality), a.kn.y());
  }

  /** Layer l's queries as a run of the joint self-attention (allocates out and lse). */
  QueryRun selfQueries(int l) {
    Layer a = layers[l];
    a.self = newRun(a, a.qn.y());
    return a.self;
  }

  /** The same run for the backward: dOut read, dq written ({@link #middleBackward} made both). */
  QueryRun selfQueryGradients(int l) {
    Layer a = layers[l];
    return a.self.withGradients(a.dOut, a.dq);
  }

  /** A run of queries q [B, S·T, H, hd] with a new out and lse (owned by the layer). */
  private QueryRun newRun(Layer a, Tensor q) {
    Tensor out = a.take(Tensor.empty(dtype, device, heads4));
    Tensor lse = a.take(Tensor.empty(DType.F32, device, batch, config.heads(), heads4[1]));
    return QueryRun.of(q, part.chunkIds(modality), out, lse);
  }

  /** Layer l's keys (rotated) as a source; with the backward's gradient targets when given. */
  KeyRun ownKeys(int l, Tensor gradK, Tensor gradV) {
    Layer a = layers[l];
    KeyRun run = KeyRun.of(a.kn.y(), a.v4, part.chunkIds(modality));
    return gradK == null ? run : run.withGradients(gradK, gradV);
  }

  /** Output projection, gated residual, norm3 and the cross-attention queries. */
  void middle(int l) {
    Layer a = layers[l];
    ModelLayers.Block block = branch.blocks().get(l);
    try (Tensor out3 = a.self.out().view(groups, tokens, dim)) {
      a.o = a.take(block.selfAttention().o().forward(out3));
    }
    a.x1 = a.take(Tensor.empty(dtype, device, groups, tokens, dim));
    a.r1 = a.take(GatedResidual.forward(a.x, a.o.y(), a.mod.vector(AdaLnModulation.GATE_MSA), a.x1));
    a.n3 = a.take(block.norm3().forward(a.x1));
    ModelLayers.Attention cross = block.crossAttention();
    a.cq = a.take(cross.q().forward(a.n3.y()));
    a.cqn = a.take(norm(cross.normQ(), a.cq.y()));
  }

  /** Layer l's cross-attention queries (allocates their out and lse). */
  QueryRun crossQueries(int l) {
    Layer a = layers[l];
    a.cross = newRun(a, a.cqn.y());
    return a.cross;
  }

  /** The same run for the backward ({@link #postBackward} made its gradients). */
  QueryRun crossQueryGradients(int l) {
    Layer a = layers[l];
    return a.cross.withGradients(a.dcout4, a.dcq);
  }

  /** Cross output into the residual, then the FFN half; x becomes the layer's output. */
  void post(int l) {
    Layer a = layers[l];
    ModelLayers.Block block = branch.blocks().get(l);
    a.x2 = a.take(a.x1.copy());
    try (Tensor cout3 = a.cross.out().view(groups, tokens, dim)) {
      a.co = a.take(block.crossAttention().o().forward(cout3, a.x2, true));
    }
    a.n2 = a.take(block.norm2().forward(a.x2, a.mod.vector(AdaLnModulation.SHIFT_MLP),
        a.mod.vector(AdaLnModulation.SCALE_MLP)));
    a.f = a.take(block.ffn().forward(a.n2.y()));
    a.x3 = a.take(Tensor.empty(dtype, device, groups, tokens, dim));
    a.r2 = a.take(GatedResidual.forward(a.x2, a.f.y(), a.mod.vector(AdaLnModulation.GATE_MLP), a.x3));
    advance(a.x3);
  }

  /** Ends layer l's forward: without a backward to come, its activations are released. */
  void finish(int l) {
    if (!keep) {
      layers[l].close();
      layers[l] = null;
    }
  }

  /** The head: velocity tokens [G, T_in, P] (the audio branch drops the transcript row's output). */
  void head() {
    ModelLayers.Head h = branch.head();
    headMod = own(h.modulation().forward(time.e()));
    headNorm = own(h.norm().forward(x, headMod.vector(AdaLnModulation.SHIFT), headMod.vector(AdaLnModulation.SCALE)));
    unembed = own(h.unembed().forward(headNorm.y()));
    if (modality == Modality.VIDEO) {
      velocity = unembed.y();
    } else {
      int na = config.audioTokensPerChunk();
      velocity = own(Tensor.empty(dtype, device, groups, na, config.audioTokenFeatures()));
      rows(unembed.y(), 0, velocity, 0, na);
    }
  }

  /** The velocity tokens [G, T_in, P] (after {@link #head}). */
  Tensor velocity() {
    requireOpen();
    return velocity;
  }

  // ------------------------------------------------------------------ backward phases

  /** Starts the backward: dv [G, T_in, P] for an output part, null for one without output. */
  void beginBackward(Tensor dVelocity) {
    de = own(Tensor.zeros(DType.F32, device, groups, dim));
    de0 = own(Tensor.zeros(DType.F32, device, groups, AdaLnModulation.BLOCK_VECTORS, dim));
    if (dVelocity == null) {
      return;
    }
    ModelLayers.Head h = branch.head();
    Tensor dOut = dVelocity;
    Tensor expanded = null;
    if (modality == Modality.AUDIO) {
      int na = config.audioTokensPerChunk();
      expanded = Tensor.zeros(dtype, device, unembed.y().shape());
      rows(dVelocity, 0, expanded, 0, na);
      dOut = expanded;
    }
    try (Tensor dhn = Tensor.empty(dtype, device, groups, tokens, dim); Tensor dhm = headMod.newGradient()) {
      h.unembed().backward(unembed, dOut, dhn, false);
      dx = Tensor.empty(dtype, device, groups, tokens, dim);
      h.norm().backward(headNorm, dhn, dx, false, new ModVector(dhm, AdaLnModulation.SHIFT),
          new ModVector(dhm, AdaLnModulation.SCALE));
      h.modulation().backward(headMod, dhm, de, true);
    } finally {
      if (expanded != null) {
        expanded.close();
      }
    }
  }

  /** Backward of {@link #post}: from dx3 to dx2 and the cross-attention's output gradient. */
  void postBackward(int l) {
    Layer a = layers[l];
    ModelLayers.Block block = branch.blocks().get(l);
    a.dmod = a.take(a.mod.newGradient());
    a.dx2 = a.take(dx.copy());
    try (Tensor df = GatedResidual.backward(a.r2, dx, new ModVector(a.dmod, AdaLnModulation.GATE_MLP));
         Tensor dn2 = Tensor.empty(dtype, device, groups, tokens, dim)) {
      block.ffn().backward(a.f, df, dn2, false);
      block.norm2().backward(a.n2, dn2, a.dx2, true,
          new ModVector(a.dmod, AdaLnModulation.SHIFT_MLP), new ModVector(a.dmod, AdaLnModulation.SCALE_MLP));
    }
    Tensor dcout = a.take(block.crossAttention().o().backward(a.co, a.dx2));
    a.dcout4 = a.take(dcout.view(heads4));
    a.dcq = a.take(Tensor.empty(dtype, device, heads4));
  }

  /**
   * Backward of {@link #middle}, after the cross-attention's: from dx2 to dx1 and the
   * self-attention's output gradient; allocates the q, k, v gradient targets.
   */
  void middleBackward(int l) {
    Layer a = layers[l];
    ModelLayers.Block block = branch.blocks().get(l);
    ModelLayers.Attention cross = block.crossAttention();
    cross.normQ().backward(a.cqn, a.dcq, a.dcq, false);
    a.dx1 = a.take(a.dx2.copy());
    try (Tensor dcq3 = a.dcq.view(groups, tokens, dim); Tensor dn3 = cross.q().backward(a.cq, dcq3)) {
      block.norm3().backward(a.n3, dn3, a.dx1, true, null, null);
    }
    try (Tensor da = GatedResidual.backward(a.r1, a.dx1, new ModVector(a.dmod, AdaLnModulation.GATE_MSA))) {
      Tensor dOut3 = a.take(block.selfAttention().o().backward(a.o, da));
      a.dOut = a.take(dOut3.view(heads4));
    }
    a.dq = a.take(Tensor.empty(dtype, device, heads4));
  }

  /** The gradient targets of layer l's own keys and values (allocated on first use). */
  Tensor[] keyGradients(int l) {
    Layer a = layers[l];
    if (a.dk == null) {
      a.dk = a.take(Tensor.empty(dtype, device, heads4));
      a.dv = a.take(Tensor.empty(dtype, device, heads4));
    }
    return new Tensor[] {a.dk, a.dv};
  }

  /**
   * Backward of {@link #pre} and {@link #rotate}: from dq, dk, dv (and dx1 where the layer
   * continued) to the gradient of the layer's input; the modulation's gradient goes to de0.
   */
  void preBackward(int l) {
    Layer a = layers[l];
    ModelLayers.Block block = branch.blocks().get(l);
    ModelLayers.Attention att = block.selfAttention();
    if (a.dmod == null) {
      a.dmod = a.take(a.mod.newGradient());
    }
    try (Tensor dn1 = Tensor.zeros(dtype, device, groups, tokens, dim)) {
      if (a.dq != null) {
        rope.backward(a.dq, part.positions(modality), a.dq);
        att.normQ().backward(a.qn, a.dq, a.dq, false);
        try (Tensor dq3 = a.dq.view(groups, tokens, dim)) {
          att.q().backward(a.q, dq3, dn1, true);
        }
      }
      if (a.dk != null) {
        rope.backward(a.dk, part.positions(modality), a.dk);
        att.normK().backward(a.kn, a.dk, a.dk, false);
        try (Tensor dk3 = a.dk.view(groups, tokens, dim); Tensor dv3 = a.dv.view(groups, tokens, dim)) {
          att.k().backward(a.k, dk3, dn1, true);
          att.v().backward(a.v, dv3, dn1, true);
        }
      }
      Tensor next = a.dx1 != null ? a.dx1 : Tensor.zeros(dtype, device, groups, tokens, dim);
      try {
        block.norm1().backward(a.n1, dn1, next, true, new ModVector(a.dmod, AdaLnModulation.SHIFT_MSA),
            new ModVector(a.dmod, AdaLnModulation.SCALE_MSA));
        setDx(next.view(next.shape()));
      } finally {
        if (a.dx1 == null) {
          next.close();
        }
      }
    }
    block.modulation().backward(a.mod, a.dmod, de0, true);
    a.close();
    layers[l] = null;
  }

  /**
   * The end of the backward: stem (dTokens [G, T_in, P] receives the input gradient, or null),
   * transcript tokens, time path.
   */
  void endBackward(ModelLayers model, Tensor dTokens) {
    if (modality == Modality.VIDEO) {
      branch.patchEmbed().linear().backward(embed, dx, dTokens, false);
    } else {
      int na = config.audioTokensPerChunk();
      int nt = config.transcriptTokensPerChunk();
      try (Tensor dAudio = Tensor.empty(dtype, device, groups, na, dim);
           Tensor dTranscript = Tensor.empty(dtype, device, groups, nt, dim)) {
        rows(dx, 0, dAudio, 0, na);
        rows(dx, na, dTranscript, 0, nt);
        model.condition().backward(inputs.transcript(), dTranscript);
        branch.patchEmbed().linear().backward(embed, dAudio, dTokens, false);
      }
    }
    branch.projection().backward(projection, de0, de, true);
    branch.time().backward(time, de);
  }

  // ------------------------------------------------------------------ helpers

  private RmsNorm.Ctx norm(RmsNorm norm, Tensor y3) {
    try (Tensor y4 = y3.view(heads4)) {
      return norm.forward(y4);
    }
  }

  /** The residual stream continues from {@code t} (this object keeps a view of it). */
  private void advance(Tensor t) {
    Tensor next = t.view(t.shape());
    if (x != null) {
      x.close();
    }
    x = next;
  }

  private void setDx(Tensor next) {
    if (dx != null) {
      dx.close();
    }
    dx = next;
  }

  /** Rows [from, from + count) of every group of src [G, Ts, X] into rows [to, ...) of dst [G, Td, X]. */
  private static void rows(Tensor src, int from, Tensor dst, int to, int count) {
    long width = src.size(2);
    RowCopy.copy(src, from * width, src.size(1) * width, dst, to * width, dst.size(1) * width, count * width,
        src.size(0));
  }

  @Override
  public void close() {
    super.close();
    if (x != null) {
      x.close();
    }
    if (dx != null) {
      dx.close();
    }
  }

  /** One layer's activations (forward) and gradients (backward). */
  private static final class Layer extends Saved {
    Tensor x;
    AdaLnModulation.Ctx mod;
    LayerNorm.Ctx n1;
    Linear.Ctx q;
    Linear.Ctx k;
    Linear.Ctx v;
    RmsNorm.Ctx qn;
    RmsNorm.Ctx kn;
    Tensor v4;
    QueryRun self;
    Linear.Ctx o;
    Tensor x1;
    GatedResidual.Ctx r1;
    LayerNorm.Ctx n3;
    Linear.Ctx cq;
    RmsNorm.Ctx cqn;
    QueryRun cross;
    Tensor x2;
    Linear.Ctx co;
    LayerNorm.Ctx n2;
    FeedForward.Ctx f;
    Tensor x3;
    GatedResidual.Ctx r2;
    // backward
    Tensor dmod;
    Tensor dx2;
    Tensor dcout4;
    Tensor dcq;
    Tensor dx1;
    Tensor dOut;
    Tensor dq;
    Tensor dk;
    Tensor dv;

    Tensor hold(Tensor t) {
      return keep(t);
    }

    Tensor take(Tensor t) {
      return own(t);
    }

    <S extends Saved> S take(S s) {
      return own(s);
    }
  }
}
