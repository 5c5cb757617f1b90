package io.mforce.model;

import io.mforce.nn.attention.KeyRun.Relation;
import java.util.ArrayList;
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
   * a stream's chunk sees through its caches. {@code joint}: both branches' queries over both
   * branches' keys (stage 2); else each branch's queries over its own keys alone (stage 1: each
   * branch learns its modality without the other).
   */
  static AttentionPlan teacherForcing(boolean joint) {
    List<List<Modality>> groups = joint ? List.of(List.of(Modality.VIDEO, Modality.AUDIO))
        : List.of(List.of(Modality.VIDEO), List.of(Modality.AUDIO));
    List<JointCall> calls = new ArrayList<>();
    for (List<Modality> group : groups) {
      calls.add(new JointCall(queries(0, group), keys(group, 0, Relation.CAUSAL)));
    }
    for (List<Modality> group : groups) {
      List<Key> keys = new ArrayList<>(keys(group, 0, Relation.PAST));
      keys.addAll(keys(group, 1, Relation.SAME_CHUNK));
      calls.add(new JointCall(queries(1, group), keys));
    }
    return new AttentionPlan(List.copyOf(calls));
  }

  private static List<Query> queries(int part, List<Modality> modalities) {
    return modalities.stream().map(m -> new Query(part, m)).toList();
  }

  private static List<Key> keys(List<Modality> modalities, int part, Relation relation) {
    return modalities.stream().map(m -> new Key(part, m, relation)).toList();
  }

  static List<Query> both(int part) {
    return queries(part, List.of(Modality.VIDEO, Modality.AUDIO));
  }
}
