package io.mforce.model;

import io.mforce.nn.attention.KeyRun.Relation;
import java.util.List;

/**
 * Which keys the joint self-attention of every layer reads: a list of {@link JointCall}s, each
 * one softmax over its key sources (the queries of both branches attend over the keys of both
 * branches in the same call, DESIGN §3). A key source is the keys of a (part, branch) of the
 * pass, or a branch's KV cache of the layer (a stream's clean history, read only).
 */
record AttentionPlan(List<JointCall> calls) {
  /** The queries of one (part, branch). */
  record Query(int part, Modality modality) {}

  /**
   * The keys of (part, branch) under a relation (which of their chunks a query sees), or
   * ({@code part} = {@link #CACHE}) the layer's cache of the branch (chunk-causal).
   */
  record Key(int part, Modality modality, Relation relation) {
    static final int CACHE = -1;

    static Key cache(Modality m) {
      return new Key(CACHE, m, Relation.CAUSAL);
    }

    boolean cached() {
      return part == CACHE;
    }
  }

  /** One JointAttention call. */
  record JointCall(List<Query> queries, List<Key> keys) {}

  /**
   * A streaming chunk (one part) over the caches of its stream's history and its own keys
   * (chunk-causal: the caches hold earlier chunks, the chunk sees all of its own tokens).
   */
  static AttentionPlan streaming() {
    return new AttentionPlan(List.of(new JointCall(both(0), List.of(Key.cache(Modality.VIDEO),
        Key.cache(Modality.AUDIO), new Key(0, Modality.VIDEO, Relation.CAUSAL),
        new Key(0, Modality.AUDIO, Relation.CAUSAL)))));
  }

  /**
   * A clean chunk being appended (one part): its keys are written into the caches first, so it
   * reads them there with its history.
   */
  static AttentionPlan appending() {
    return new AttentionPlan(List.of(new JointCall(both(0), List.of(Key.cache(Modality.VIDEO),
        Key.cache(Modality.AUDIO)))));
  }

  /**
   * Teacher forcing over part 0 (the clean stream, chunks 0..C−1) and part 1 (the noisy stream,
   * chunks 1..C−1): clean queries over clean keys (chunk-causal), then noisy queries over the
   * clean keys of earlier chunks (PAST) and the noisy keys of their own chunk (SAME_CHUNK) — what
   * a stream's chunk sees through its caches.
   */
  static AttentionPlan teacherForcing() {
    return new AttentionPlan(List.of(
        new JointCall(both(0), List.of(new Key(0, Modality.VIDEO, Relation.CAUSAL),
            new Key(0, Modality.AUDIO, Relation.CAUSAL))),
        new JointCall(both(1), List.of(new Key(0, Modality.VIDEO, Relation.PAST),
            new Key(0, Modality.AUDIO, Relation.PAST), new Key(1, Modality.VIDEO, Relation.SAME_CHUNK),
            new Key(1, Modality.AUDIO, Relation.SAME_CHUNK)))));
  }

  static List<Query> both(int part) {
    return List.of(new Query(part, Modality.VIDEO), new Query(part, Modality.AUDIO));
  }
}
