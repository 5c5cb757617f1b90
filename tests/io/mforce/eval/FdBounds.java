package io.mforce.eval;

/**
 * How far below real-against-noise a Fréchet distance of real against real must be ("far
 * below", in the words), one bound per feature kind for every test that checks it.
 */
final class FdBounds {
  private FdBounds() {}

  /**
   * Audio: real clips of other seeds share one voice model, so their log-mel statistics nearly
   * coincide: the tests measure 0.001 to 0.007 of the distance to white noise.
   */
  static final double AUDIO = 0.05;

  /**
   * Video: each identity brings its own background, skin and hair colours, so two real sets
   * differ by which identities they sampled, and the bound depends on how many a test affords.
   * With 16 identities a side (FrechetTest) real against real measures 0.10 of real against snow:
   * bound 0.2. With the 2 a side EvaluatorTest can afford at 25 s a clip it measures 0.44: bound
   * 0.5. A generator whose frames were noise would score 1 either way.
   */
  static final double VIDEO_16_IDENTITIES = 0.2;

  /** See {@link #VIDEO_16_IDENTITIES}. */
  static final double VIDEO_2_IDENTITIES = 0.5;
}
