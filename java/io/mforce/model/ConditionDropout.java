package io.mforce.model;

import io.mforce.runtime.Check;
import java.util.SplittableRandom;

/**
 * Training's condition dropout for classifier-free guidance (DESIGN §3 "Conditions": each
 * condition is dropped with its own probability): per sample, the attributes are replaced by
 * their null ids with probability {@code attributes} and, independently, the whole transcript
 * with probability {@code transcript}. So the model learns the velocity without either condition
 * alone, and without both (probability attributes·transcript), which is the null-condition pass
 * of CFG ({@link Conditions#unconditional()}). The first frame is data, the clean prefix chunk,
 * and is never dropped.
 *
 * <p>The paper gives no rate (paper-notes §2, "CFG dropout rate" not disclosed); {@link #DEFAULT}
 * is 10% each, a common choice for text-to-video models, not a reproduction of the paper.
 *
 * @param attributes probability in [0, 1] of dropping a sample's attribute tokens
 * @param transcript probability in [0, 1] of dropping a sample's transcript tokens
 */
public record ConditionDropout(double attributes, double transcript) {
  /** 10% for each condition (both: 1%). */
  public static final ConditionDropout DEFAULT = new ConditionDropout(0.1, 0.1);

  public ConditionDropout {
    if (!(attributes >= 0 && attributes <= 1) || !(transcript >= 0 && transcript <= 1)) {
      throw new IllegalArgumentException("condition dropout: probabilities attributes " + attributes + " and "
          + "transcript " + transcript + " must be in [0, 1]");
    }
  }

  /** {@code c} with each sample's conditions dropped by independent draws from {@code random}. */
  public Conditions apply(Conditions c, SplittableRandom random) {
    Check.notNull(c, "conditions");
    Check.notNull(random, "random");
    boolean[] dropAttributes = new boolean[c.batch()];
    boolean[] dropTranscript = new boolean[c.batch()];
    for (int b = 0; b < c.batch(); b++) {
      dropAttributes[b] = random.nextDouble() < attributes;
      dropTranscript[b] = random.nextDouble() < transcript;
    }
    return c.dropped(dropAttributes, dropTranscript);
  }
}
