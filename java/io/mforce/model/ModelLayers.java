package io.mforce.model;

import io.mforce.nn.AdaLnModulation;
import io.mforce.nn.ConditionEmbedding;
import io.mforce.nn.FeedForward;
import io.mforce.nn.LayerNorm;
import io.mforce.nn.Linear;
import io.mforce.nn.ModulationProjection;
import io.mforce.nn.ParameterStore;
import io.mforce.nn.PatchEmbed;
import io.mforce.nn.PatchUnembed;
import io.mforce.nn.RmsNorm;
import io.mforce.nn.TimeEmbedding;
import java.util.ArrayList;
import java.util.List;

/**
 * Every parameter-owning layer of the dual-branch model of a {@link ModelConfig}, declared into a
 * {@link ParameterStore} under the names of {@link ParameterCount} (which documents the
 * architecture). This is the model's structure without its forward and backward: the assembly
 * with the joint attention kernels builds on it. Attention itself has no parameters: a block's
 * {@link Attention} is its projections and QK-norms.
 */
public final class ModelLayers {
  /** Branch names, which prefix their parameters. */
  public static final String VIDEO = "video";
  public static final String AUDIO = "audio";

  private final ModelConfig config;
  private final Branch video;
  private final Branch audio;
  private final ConditionEmbedding condition;

  /** The q, k, v, o projections [D → D] and the per-head QK RMSNorms of one attention. */
  public record Attention(Linear q, Linear k, Linear v, Linear o, RmsNorm normQ, RmsNorm normK) {
    static Attention declare(ParameterStore store, String name, ModelConfig c) {
      float eps = (float) c.normEps();
      return new Attention(new Linear(store, name + ".q", c.width(), c.width(), true),
          new Linear(store, name + ".k", c.width(), c.width(), true),
          new Linear(store, name + ".v", c.width(), c.width(), true),
          new Linear(store, name + ".o", c.width(), c.width(), true),
          new RmsNorm(store, name + ".norm_q", c.headDim(), eps),
          new RmsNorm(store, name + ".norm_k", c.headDim(), eps));
    }
  }

  /**
   * One block: modulation table, norm1 (no affine, modulated) → joint self-attention → gated
   * residual; norm3 (affine) → cross-attention → residual; norm2 (no affine, modulated) → FFN →
   * gated residual.
   */
  public record Block(AdaLnModulation modulation, LayerNorm norm1, Attention selfAttention, LayerNorm norm3,
                      Attention crossAttention, LayerNorm norm2, FeedForward ffn) {
    static Block declare(ParameterStore store, String name, ModelConfig c) {
      float eps = (float) c.normEps();
      return new Block(new AdaLnModulation(store, name + ".modulation", AdaLnModulation.BLOCK_VECTORS, c.width()),
          new LayerNorm(store, name + ".norm1", c.width(), false, eps),
          Attention.declare(store, name + ".self_attn", c),
          new LayerNorm(store, name + ".norm3", c.width(), true, eps),
          Attention.declare(store, name + ".cross_attn", c),
          new LayerNorm(store, name + ".norm2", c.width(), false, eps),
          new FeedForward(store, name + ".ffn", c.width(), c.ffnWidth()));
    }
  }

  /** The output head: modulation [2, D] on the time embedding, LayerNorm (no affine), unembed. */
  public record Head(AdaLnModulation modulation, LayerNorm norm, PatchUnembed unembed) {}

  /** One branch: patch embed, time embedding, shared AdaLN projection, blocks, head. */
  public record Branch(String name, PatchEmbed patchEmbed, TimeEmbedding time, ModulationProjection projection,
                       List<Block> blocks, Head head) {
    static Branch declare(ParameterStore store, String name, ModelConfig c, int features) {
      float eps = (float) c.normEps();
      PatchEmbed embed = new PatchEmbed(store, name + ".patch_embed", features, c.width());
      TimeEmbedding time = new TimeEmbedding(store, name + ".time", c.timeFreqDim(), c.width(),
          (float) c.timeScale());
      ModulationProjection projection = new ModulationProjection(store, name + ".time_projection", c.width(),
          AdaLnModulation.BLOCK_VECTORS);
      List<Block> blocks = new ArrayList<>();
      for (int i = 0; i < c.layers(); i++) {
        blocks.add(Block.declare(store, name + ".blocks." + i, c));
      }
      Head head = new Head(new AdaLnModulation(store, name + ".head.modulation", AdaLnModulation.HEAD_VECTORS,
          c.width()), new LayerNorm(store, name + ".head.norm", c.width(), false, eps),
          new PatchUnembed(store, name + ".head.unembed", c.width(), features));
      return new Branch(name, embed, time, projection, List.copyOf(blocks), head);
    }
  }

  /** Declares the whole model into {@code store} (materialize the store afterwards). */
  public ModelLayers(ParameterStore store, ModelConfig config) {
    this.config = config;
    this.video = Branch.declare(store, VIDEO, config, config.videoTokenFeatures());
    this.audio = Branch.declare(store, AUDIO, config, config.audioTokenFeatures());
    this.condition = new ConditionEmbedding(store, "condition", config.attributeVocab(), config.conditionTokens(),
        config.transcriptVocab(), config.width());
  }

  public ModelConfig config() {
    return config;
  }

  public Branch video() {
    return video;
  }

  public Branch audio() {
    return audio;
  }

  public ConditionEmbedding condition() {
    return condition;
  }
}
