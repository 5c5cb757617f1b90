package io.mforce.model;

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

  /** The keys of (part, branch), or ({@code part} = {@link #CACHE}) the layer's cache of the branch. */
  record Key(int part, Modality modality) {
    static final int CACHE = -1;

    static Key cache(Modality m) {
      return new Key(CACHE, m);
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
        Key.cache(Modality.AUDIO), new Key(0, Modality.VIDEO), new Key(0, Modality.AUDIO)))));
  }

  /**
   * A clean chunk being appended (one part): its keys are written into the caches first, so it
   * reads them there with its history.
   */
  static AttentionPlan appending() {
    return new AttentionPlan(List.of(new JointCall(both(0), List.of(Key.cache(Modality.VIDEO),
        Key.cache(Modality.AUDIO)))));
  }

  static List<Query> both(int part) {
    return List.of(new Query(part, Modality.VIDEO), new Query(part, Modality.AUDIO));
  }
}
