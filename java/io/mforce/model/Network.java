package io.mforce.model;

import io.mforce.nn.Activation;
import io.mforce.nn.LayerKernels;
import io.mforce.nn.ParameterStore;
import io.mforce.nn.Saved;
import io.mforce.nn.attention.JointAttention;
import io.mforce.nn.attention.KeyRun;
import io.mforce.nn.attention.KvCache;
import io.mforce.nn.attention.QueryRun;
import io.mforce.nn.attention.Rope3D;
import io.mforce.runtime.DType;
import io.mforce.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The dual-branch network over the {@link Part}s of one pass, forward and backward in explicit
 * phases (no autograd): per layer, every (part, branch) runs its {@link BranchPass} phase, and
 * between the phases the attention calls couple them — the joint self-attention calls of the
 * {@link AttentionPlan} (queries of both branches over keys of both branches, one softmax) and,
 * per branch, one cross-attention call over all parts to that branch's {@link ConditionKeys}.
 *
 * <p>With caches, a pass of one part of one slot can write its keys and values into them
 * (appending a clean chunk) before its attention reads them.
 *
 * <p>A pass can run several {@link StreamSet}s at once: its batch is then their streams in order,
 * and each attention call runs once per set over that set's rows ({@link RowBlocks}), with the
 * set's caches and condition keys, while every other layer runs over the whole batch (CFG's
 * conditional and null passes as one pass of twice the rows). Such a pass is for inference: its
 * forward is not kept for a backward.
 */
final class Network {
  private final ParameterStore store;
  private final ModelLayers layers;
  private final Rope3D rope;
  private final DType dtype;

  Network(ParameterStore store, ModelLayers layers, Rope3D rope, DType dtype) {
    this.store = store;
    this.layers = layers;
    this.rope = rope;
    this.dtype = dtype;
  }

  /**
   * Streams that share their history and conditions: the KV caches [layer][modality] (null in a
   * pass without caches) and the condition keys.
   */
  record StreamSet(KvCache[][] caches, ConditionKeys conditions) {}

  /**
   * What the caller of a pass decides: plan, the stream sets (the batch's rows split evenly among
   * them, in order), whether the pass writes its keys into the caches, the attention objects.
   */
  record Setup(AttentionPlan plan, List<StreamSet> sets, boolean writeCaches, JointAttention self,
               JointAttention cross) {
    /** A pass of one stream set. */
    Setup(AttentionPlan plan, KvCache[][] caches, boolean writeCaches, ConditionKeys conditions, JointAttention self,
          JointAttention cross) {
      this(plan, List.of(new StreamSet(caches, conditions)), writeCaches, self, cross);
    }
  }

  /** A forward's state (every activation when kept for a backward) and its velocity outputs. */
  static final class Ctx extends Saved {
    private final Part[] parts;
    private final Setup setup;
    private final BranchPass[][] branches;
    private final long weights; // the store's version the forward ran with
    private boolean backwardRan;

    Ctx(Part[] parts, Setup setup, long weights) {
      this.parts = parts;
      this.setup = setup;
      this.branches = new BranchPass[parts.length][2];
      this.weights = weights;
    }

    /** The velocity tokens [G, T_in, P] of an output part. */
    Tensor velocity(int part, Modality m) {
      requireOpen();
      return branches[part][m.ordinal()].velocity();
    }

    BranchPass add(int part, BranchPass b) {
      branches[part][b.modality().ordinal()] = own(b);
      return b;
    }
  }

  Ctx forward(Part[] parts, Part.Inputs[] inputs, Setup setup, boolean keep) {
    if (keep && setup.sets().size() > 1) {
      throw new IllegalArgumentException("network: a pass of " + setup.sets().size() + " stream sets is for "
          + "inference only (keep = false); run one pass per set to back-propagate");
    }
    Ctx ctx = new Ctx(parts, setup, store.version());
    try (RowBlocks rows = new RowBlocks(setup.sets().size())) {
      for (int p = 0; p < parts.length; p++) {
        for (Modality m : Modality.values()) {
          ctx.add(p, new BranchPass(m, layers, parts[p], inputs[p], rope, dtype, keep));
        }
      }
      List<BranchPass> all = all(ctx);
      int count = layers.config().layers();
      for (int l = 0; l < count; l++) {
        for (BranchPass b : all) {
          b.pre(l);
        }
        if (setup.writeCaches()) {
          writeCaches(ctx, l, rows);
        }
        for (BranchPass b : all) {
          b.rotate(l);
        }
        for (AttentionPlan.JointCall call : setup.plan().calls()) {
          List<QueryRun> queries = selfQueries(ctx, call, l, false);
          if (queries.isEmpty()) {
            continue;
          }
          List<KeyRun> keys = new ArrayList<>();
          for (AttentionPlan.Key k : call.keys()) {
            keys.add(k.cached() ? null : branch(ctx, k.part(), k.modality()).ownKeys(l, null, null)
                .withRelation(k.relation()));
          }
          for (int s = 0; s < rows.count(); s++) {
            setup.self().forward(block(queries, rows, s), block(setup, call, keys, l, rows, s));
          }
        }
        List<BranchPass> continuing = continuing(all, l);
        for (BranchPass b : continuing) {
          b.middle(l);
        }
        crossAttention(setup, continuing, l, false, rows);
        for (BranchPass b : continuing) {
          b.post(l);
        }
        for (BranchPass b : all) {
          b.finish(l);
        }
      }
      for (int p = 0; p < parts.length; p++) {
        if (parts[p].output()) {
          for (BranchPass b : ctx.branches[p]) {
            b.head();
          }
        }
      }
      return ctx;
    } catch (RuntimeException e) {
      ctx.close();
      throw e;
    }
  }

  /**
   * Part 0's keys (not yet rotated) and values of layer l into every set's caches, each set its
   * rows. The chunk index is read by the kernel from the part's own chunk ids (their first
   * token's), so that a captured graph appends whichever chunk the part was moved to.
   */
  private static void writeCaches(Ctx ctx, int l, RowBlocks rows) {
    Part part = ctx.parts[0];
    for (Modality m : Modality.values()) {
      BranchPass b = ctx.branches[0][m.ordinal()];
      try (Tensor chunkIndex = part.chunkIds(m).narrow(0, 0, 1)) {
        for (int s = 0; s < rows.count(); s++) {
          ctx.setup.sets().get(s).caches()[l][m.ordinal()].append(rows.of(b.rawKeys(l), s), rows.of(b.values(l), s),
              part.positions(m), chunkIndex);
        }
      }
    }
  }

  /**
   * Backward of a kept forward: dVelocity[p][m] [G, T_in, P] for every output part; dTokens[p][m]
   * (or null entries, or null) receive the input tokens' gradients. Parameter gradients accumulate.
   * Once per forward (the backward releases the activations layer by layer), and only with the
   * weights the forward ran with (the layers' backwards read the current weights beside
   * activations saved under the old ones: the gradients would be silently wrong). {@code op}
   * names the caller's entry point in the errors.
   */
  void backward(String op, Ctx ctx, Tensor[][] dVelocity, Tensor[][] dTokens) {
    if (ctx.backwardRan) {
      throw new IllegalStateException(op + ": the backward of this forward already ran and released its "
          + "activations; run the forward again");
    }
    long now = store.version();
    if (now != ctx.weights) {
      throw new IllegalStateException(op + ": the model's weights changed since the forward (parameter version "
          + ctx.weights + " -> " + now + ": an optimizer step, a checkpoint load, an EMA swap or refreshWorking); "
          + "run the backward before changing them, or the forward again");
    }
    ctx.backwardRan = true;
    Setup setup = ctx.setup;
    List<BranchPass> all = all(ctx);
    for (int p = 0; p < ctx.parts.length; p++) {
      for (BranchPass b : ctx.branches[p]) {
        b.beginBackward(ctx.parts[p].output() ? dVelocity[p][b.modality().ordinal()] : null);
      }
    }
    for (int l = layers.config().layers() - 1; l >= 0; l--) {
      List<BranchPass> continuing = continuing(all, l);
      for (BranchPass b : continuing) {
        b.postBackward(l);
      }
      try (RowBlocks rows = new RowBlocks(setup.sets().size())) {
        crossAttention(setup, continuing, l, true, rows);
        for (BranchPass b : continuing) {
          b.middleBackward(l);
        }
        selfAttentionBackward(ctx, l, rows);
      }
      for (BranchPass b : all) {
        b.preBackward(l);
      }
    }
    for (int p = 0; p < ctx.parts.length; p++) {
      for (BranchPass b : ctx.branches[p]) {
        Tensor target = dTokens == null || dTokens[p] == null ? null : dTokens[p][b.modality().ordinal()];
        b.endBackward(layers, target);
      }
    }
    for (StreamSet set : setup.sets()) {
      set.conditions().backward();
    }
  }

  /**
   * The plan's calls backwards, last first. A (part, branch) whose keys several calls read gets
   * the first gradient written in place and the others added to it.
   */
  private static void selfAttentionBackward(Ctx ctx, int l, RowBlocks rows) {
    Setup setup = ctx.setup;
    boolean[][] written = new boolean[ctx.parts.length][2];
    List<AttentionPlan.JointCall> calls = setup.plan().calls();
    for (int c = calls.size() - 1; c >= 0; c--) {
      AttentionPlan.JointCall call = calls.get(c);
      List<QueryRun> queries = selfQueries(ctx, call, l, true);
      if (queries.isEmpty()) {
        continue;
      }
      List<KeyRun> keys = new ArrayList<>();
      List<Tensor[]> sums = new ArrayList<>(); // {temporary, target} pairs to add after the call
      try {
        for (AttentionPlan.Key k : call.keys()) {
          if (k.cached()) {
            keys.add(null);
            continue;
          }
          BranchPass b = branch(ctx, k.part(), k.modality());
          Tensor[] targets = b.keyGradients(l);
          if (!written[k.part()][k.modality().ordinal()]) {
            written[k.part()][k.modality().ordinal()] = true;
            keys.add(b.ownKeys(l, targets[0], targets[1]).withRelation(k.relation()));
          } else {
            Tensor tk = Tensor.empty(targets[0].dtype(), targets[0].device(), targets[0].shape());
            sums.add(new Tensor[] {tk, targets[0]});
            Tensor tv = Tensor.empty(targets[1].dtype(), targets[1].device(), targets[1].shape());
            sums.add(new Tensor[] {tv, targets[1]});
            keys.add(b.ownKeys(l, tk, tv).withRelation(k.relation()));
          }
        }
        for (int s = 0; s < rows.count(); s++) {
          setup.self().backward(block(queries, rows, s), block(setup, call, keys, l, rows, s));
        }
        for (Tensor[] s : sums) {
          // target += temporary: the backward of an identity, accumulated
          LayerKernels.biasActBackward(Activation.NONE, null, s[0], s[1], true, null);
        }
      } finally {
        for (Tensor[] s : sums) {
          s[0].close();
        }
      }
    }
  }

  /** Set s's rows of the queries. */
  private static List<QueryRun> block(List<QueryRun> queries, RowBlocks rows, int s) {
    return queries.stream().map(q -> rows.of(q, s)).toList();
  }

  /**
   * Set s's key sources of a call: its rows of the pass's own keys ({@code own}, null where the
   * call reads a cache) and, where the call reads one, set s's cache of the layer.
   */
  private static List<KeyRun> block(Setup setup, AttentionPlan.JointCall call, List<KeyRun> own, int l,
                                    RowBlocks rows, int s) {
    List<KeyRun> keys = new ArrayList<>();
    for (int i = 0; i < own.size(); i++) {
      AttentionPlan.Key k = call.keys().get(i);
      keys.add(k.cached() ? setup.sets().get(s).caches()[l][k.modality().ordinal()].keysFor(setup.self().config())
          : rows.of(own.get(i), s));
    }
    return keys;
  }

  /** The call's query runs of the (part, branch)s whose layer l continues (with gradients for a backward). */
  private static List<QueryRun> selfQueries(Ctx ctx, AttentionPlan.JointCall call, int l, boolean backward) {
    List<QueryRun> queries = new ArrayList<>();
    for (AttentionPlan.Query q : call.queries()) {
      BranchPass b = branch(ctx, q.part(), q.modality());
      if (b.continues(l)) {
        queries.add(backward ? b.selfQueryGradients(l) : b.selfQueries(l));
      }
    }
    return queries;
  }

  /**
   * Per branch, one cross-attention call per stream set: the queries of every continuing part
   * (the set's rows) over that branch's condition keys of the set.
   */
  private static void crossAttention(Setup setup, List<BranchPass> continuing, int l, boolean backward,
                                     RowBlocks rows) {
    for (Modality m : Modality.values()) {
      List<QueryRun> queries = new ArrayList<>();
      for (BranchPass b : continuing) {
        if (b.modality() == m) {
          queries.add(backward ? b.crossQueryGradients(l) : b.crossQueries(l));
        }
      }
      if (queries.isEmpty()) {
        continue;
      }
      for (int s = 0; s < rows.count(); s++) {
        ConditionKeys conditions = setup.sets().get(s).conditions();
        if (backward) {
          setup.cross().backward(block(queries, rows, s), List.of(conditions.gradients(l, m)));
        } else {
          setup.cross().forward(block(queries, rows, s), List.of(conditions.keys(l, m)));
        }
      }
    }
  }

  private static BranchPass branch(Ctx ctx, int part, Modality m) {
    return ctx.branches[part][m.ordinal()];
  }

  private static List<BranchPass> all(Ctx ctx) {
    List<BranchPass> out = new ArrayList<>();
    for (BranchPass[] row : ctx.branches) {
      out.addAll(List.of(row));
    }
    return out;
  }

  private static List<BranchPass> continuing(List<BranchPass> all, int l) {
    List<BranchPass> out = new ArrayList<>();
    for (BranchPass b : all) {
      if (b.continues(l)) {
        out.add(b);
      }
    }
    return out;
  }
}
