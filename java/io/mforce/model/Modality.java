package io.mforce.model;

/**
 * The two branches of the model, in the order every per-branch array of this package uses
 * ({@link #ordinal()}): the video branch and the audio branch (whose stream also carries the
 * transcript tokens).
 */
public enum Modality {
  VIDEO,
  AUDIO;

  /** This modality's branch of {@code layers}. */
  public ModelLayers.Branch branch(ModelLayers layers) {
    return this == VIDEO ? layers.video() : layers.audio();
  }
}
