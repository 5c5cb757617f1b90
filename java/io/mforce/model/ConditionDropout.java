package io.mforce.model;

import io.mforce.runtime.Check;
import java.util.SplittableRandom;

/**
 * Training's condition dropout for classifier-free guidance (DESIGN §3 "Conditions": each
 * condition is dropped with its own probability): per sample, with probability {@code both} the
 * attributes and the transcript are both replaced by their null ids, which is the input of CFG's
 * null-condition pass ({@link Conditions#unconditional()}); otherwise the attributes are dropped
 * with probability {@code attributes} and, independently, the transcript with probability
 * {@code transcript}. The joint draw is there because independent draws alone show the model the
 * null pass's input rarely (at 10% each, 1% of samples), while CFG evaluates it at every guided
 * step. The first frame is data, the clean prefix chunk, and is never dropped.
 *
 * <p>The paper gives no rate (paper-notes §2, "CFG dropout rate" not disclosed); {@link #DEFAULT}
 * is 10% for each draw, a common choice for text-to-video models, not a reproduction of the
 * paper.
 *
 * @param attributes probability in [0, 1] of dropping a sample's attribute tokens alone
 * @param transcript probability in [0, 1] of dropping a sample's transcript tokens alone
 * @param both probability in [0, 1] of dropping both together, drawn first
 */
public record ConditionDropout(double attributes, double transcript, double both) {
  /** 10% for each draw: both dropped in 10% + 90%·1% = 10.9% of samples. */
  public static final ConditionDropout DEFAULT = new ConditionDropout(0.1, 0.1, 0.1);

  public ConditionDropout {
    if (!(attributes >= 0 && attributes <= 1) || !(transcript >= 0 && transcript <= 1) || !(both >= 0 && both <= 1)) {
      throw new IllegalArgumentException("condition dropout: probabilities attributes " + attributes + ", "
          + "transcript " + transcript + " and both " + both + " must be in [0, 1]");
    }
  }

  /** {@code c} with each sample's conditions dropped by draws from {@code random}. */
  public Conditions apply(Conditions c, SplittableRandom random) {
    Check.notNull(c, "conditions");
    Check.notNull(random, "random");
    boolean[] dropAttributes = new boolean[c.batch()];
    boolean[] dropTranscript = new boolean[c.batch()];
    for (int b = 0; b < c.batch(); b++) {
      boolean together = random.nextDouble() < both;
      dropAttributes[b] = random.nextDouble() < attributes || together;
      dropTranscript[b] = random.nextDouble() < transcript || together;
    }
    return c.dropped(dropAttributes, dropTranscript);
  }
}
