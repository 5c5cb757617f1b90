package io.mforce.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Random2;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Stage 1's unimodal teacher-forcing pass: each branch attends to its own modality alone, so
 * its velocities do not depend on the other modality's tokens at all (bit for bit), while the
 * joint pass's do. Its backward is checked against finite differences in {@link ModelGradientTest}.
 */
class UnimodalPassTest {
  @Test
  void eachBranchIgnoresTheOtherModalityOnlyInTheUnimodalPass() {
    Random2 r = new Random2(8);
    try (AudioVideoModel model = ModelFixtures.randomModel(ModelFixtures.micro(2), Device.CPU,
             ParameterStore.Mode.FP32_TRAINING, 3, 0.2);
         TeacherForcingPass unimodal = model.unimodalTeacherForcing(0, 0);
         TeacherForcingPass joint = model.teacherForcing(0, 0);
         ModelFixtures.Clip clip = new ModelFixtures.Clip(r, model, 2, 3, new float[] {0.2f, 0.9f, 0.5f, 0.35f},
             new float[] {0f, 0.1f, 0f, 0.3f});
         ModelFixtures.Clip other = new ModelFixtures.Clip(r, model, 2, 3, new float[] {0.2f, 0.9f, 0.5f, 0.35f},
             new float[] {0f, 0.1f, 0f, 0.3f})) {
      // the clip with the other clip's audio, then with its video
      TeacherForcingPass.Inputs in = clip.inputs();
      TeacherForcingPass.Inputs otherAudio = new TeacherForcingPass.Inputs(clip.cleanVideo, other.cleanAudio,
          clip.noisyVideo, other.noisyAudio, clip.t, clip.d, clip.conditions);
      TeacherForcingPass.Inputs otherVideo = new TeacherForcingPass.Inputs(other.cleanVideo, clip.cleanAudio,
          other.noisyVideo, clip.noisyAudio, clip.t, clip.d, clip.conditions);
      float[][] base = velocities(unimodal, in);
      assertArrayEquals(base[0], velocities(unimodal, otherAudio)[0], "unimodal: the video branch ignores the audio");
      assertArrayEquals(base[1], velocities(unimodal, otherVideo)[1], "unimodal: the audio branch ignores the video");
      float[][] jointBase = velocities(joint, in);
      assertFalse(Arrays.equals(jointBase[0], velocities(joint, otherAudio)[0]), "joint: the video sees the audio");
      assertFalse(Arrays.equals(jointBase[1], velocities(joint, otherVideo)[1]), "joint: the audio sees the video");
      assertFalse(Arrays.equals(base[0], jointBase[0]), "the two passes differ");
    }
  }

  private static float[][] velocities(TeacherForcingPass pass, TeacherForcingPass.Inputs in) {
    try (TeacherForcingPass.Forward f = pass.forward(in, false)) {
      return new float[][] {f.video().toFloatArray(), f.audio().toFloatArray()};
    }
  }
}
