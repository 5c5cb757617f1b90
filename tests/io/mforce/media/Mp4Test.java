package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.data.Clip;
import io.mforce.data.TestClips;
import io.mforce.eval.LipSync;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Mp4Test {
  @TempDir
  Path tmp;

  private static double snrDb(float[] ref, float[] x) {
    double s = 0;
    double e = 0;
    for (int i = 0; i < ref.length; i++) {
      s += (double) ref[i] * ref[i];
      e += (double) (ref[i] - x[i]) * (ref[i] - x[i]);
    }
    return 10 * Math.log10(s / e);
  }

  private static double psnr(byte[] a, byte[] b) {
    double e = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (a[i] & 0xFF) - (b[i] & 0xFF);
      e += d * d;
    }
    return 10 * Math.log10(255.0 * 255.0 / (e / a.length));
  }

  /** The decoded streams last {@code seconds}, within 40 ms (one frame; AAC pads to whole 1024-sample frames). */
  private static void assertDurations(double seconds, MediaReader.Media m) {
    assertEquals(seconds, m.videoSeconds(), 0.04, "video duration");
    assertEquals(seconds, m.audioSeconds(), 0.04, "audio duration");
  }

  @Test
  void writeThenReadKeepsFramesDurationAndSync() {
    Clip clip = TestClips.clip(64, 3, 21);
    Path mp4 = tmp.resolve("clip.mp4");
    Mp4Writer.write(mp4, clip);
    MediaReader.Media m = MediaReader.read(mp4);
    assertEquals(clip.frames(), m.frames(), "frame count");
    assertEquals(clip.frames(), m.sourceFrames(), "frames in the file");
    assertEquals(25.0, m.sourceFps(), 1e-9);
    assertDurations(clip.seconds(), m);
    assertEquals(64, m.width());
    assertEquals(64, m.height());
    double[] align = AudioMatch.alignment(clip.audio(), m.audio(), 400);
    assertEquals(0, align[0], "audio lag in samples");
    assertTrue(align[1] > 0.99, "audio correlation " + align[1]);
    assertTrue(snrDb(clip.audio(), m.audio()) > 20, "audio SNR " + snrDb(clip.audio(), m.audio()));
    assertTrue(psnr(clip.video(), m.video()) > 28, "video PSNR " + psnr(clip.video(), m.video()));
    LipSync.Result sync = LipSync.measure(m.toClip());
    assertEquals(0, sync.offset(), "mouth and sound stay in sync through H.264 + AAC");
    assertTrue(sync.confidence() > 0.8, "lip sync after coding " + sync.confidence());
  }

  @Test
  void otherAudioRatesAreResampledOnRead() {
    Clip clip = TestClips.clip(32, 2, 22);
    Path mp4 = tmp.resolve("44k.mp4");
    Mp4Writer.write(mp4, clip, Mp4Writer.Options.DEFAULT.withAudioSampleRate(44_100).withScale(2));
    MediaReader.Media m = MediaReader.read(mp4, 32, Double.POSITIVE_INFINITY);
    assertEquals(44_100, m.sourceSampleRate());
    assertEquals(clip.frames(), m.frames());
    assertEquals(clip.audio().length, m.audio().length);
    assertDurations(clip.seconds(), m);
    double[] align = AudioMatch.alignment(clip.audio(), m.audio(), 400);
    assertTrue(Math.abs(align[0]) <= 1 && align[1] > 0.98, "lag " + align[0] + " correlation " + align[1]);
    // scale 2 then box-filtered back to 32x32
    assertTrue(psnr(clip.video(), m.video()) > 28, "video PSNR " + psnr(clip.video(), m.video()));
  }

  @Test
  void readingStopsAtMaxSeconds() {
    Path mp4 = tmp.resolve("long.mp4");
    Mp4Writer.write(mp4, TestClips.clip(32, 3, 23));
    MediaReader.Media m = MediaReader.read(mp4, 16, 1.0);
    assertEquals(25, m.frames());
    assertEquals(25 * 640, m.audio().length);
    assertEquals(16, m.width());
    // the other two seconds (50 frames) are not decoded at all; a few frames of interleaving slack
    assertTrue(m.sourceFrames() <= 25 + 5, m.sourceFrames() + " frames decoded for 1 s");
    assertEquals(75, MediaReader.read(mp4, 16, 10).sourceFrames());
  }

  @Test
  void maxSecondsIsNotExceededByRounding() {
    Path mp4 = tmp.resolve("one-second.mp4");
    Mp4Writer.write(mp4, TestClips.clip(32, 1, 27));
    MediaReader.Media m = MediaReader.read(mp4, 16, 0.5); // 12.5 frames: 12 fit in 0.5 s, 13 last 0.52 s
    assertEquals(12, m.frames());
    assertEquals(12 * Clip.SAMPLES_PER_FRAME, m.audio().length);
    assertEquals(25, MediaReader.read(mp4, 16, 1.0).frames());
  }

  @Test
  void readingStopsAtMaxSecondsWhenTheAudioEndsEarly() throws Exception {
    Path mp4 = tmp.resolve("short-audio.mp4");
    MediaFiles.writeStreams(mp4, 30 * Clip.FPS, 0, Clip.FPS); // 30 s of video, 1 s of audio
    MediaReader.Media m = MediaReader.read(mp4, 16, 2.0);
    assertEquals(2 * Clip.FPS, m.frames());
    // the audio never reaches 2 s: decoding stops 10 s (the interleaving horizon) past it, not at the end
    assertTrue(m.sourceFrames() <= 13 * Clip.FPS, m.sourceFrames() + " frames decoded of 750");
    assertTrue(m.audioSeconds() < 1.2, "audio ends at " + m.audioSeconds() + " s");
  }

  @Test
  void audioThatDoesNotOverlapTheVideoIsAClearError() throws Exception {
    Path mp4 = tmp.resolve("disjoint.mp4");
    MediaFiles.writeStreams(mp4, 2 * Clip.FPS, Clip.FPS, Clip.FPS / 2); // audio 0-0.5 s, video 1-2 s
    MediaException e = assertThrows(MediaException.class, () -> MediaReader.read(mp4));
    assertTrue(e.getMessage().contains("disjoint.mp4") && e.getMessage().contains("does not overlap"),
        e.getMessage());
  }

  @Test
  void streamsThatStartAtDifferentTimesStayInSync() throws Exception {
    Clip clip = TestClips.clip(32, 3, 26);
    Path mp4 = tmp.resolve("late-video.mp4");
    int skip = 5;
    MediaFiles.writeLateVideo(mp4, clip, skip);
    MediaReader.Media m = MediaReader.read(mp4);
    assertEquals(clip.frames() - skip, m.frames());
    // frame 0 read is the clip's frame 5, so the audio must start 5 frames into the clip's
    float[] expected = Arrays.copyOfRange(clip.audio(), skip * Clip.SAMPLES_PER_FRAME, clip.audio().length);
    double[] align = AudioMatch.alignment(expected, m.audio(), 400);
    assertEquals(0, align[0], "audio lag in samples");
    assertTrue(align[1] > 0.99, "audio correlation " + align[1]);
    assertDurations(m.frames() / (double) Clip.FPS, m);
    assertEquals(0, LipSync.measure(m.toClip()).offset());
  }

  @Test
  void audioThatStartsAfterTheVideoIsPrecededBySilence() throws Exception {
    Clip clip = TestClips.clip(32, 3, 26);
    Path synced = tmp.resolve("synced.mp4");
    MediaFiles.writeLateVideo(synced, clip, 0);
    Path mp4 = tmp.resolve("late-audio.mp4");
    int delay = 5;
    MediaFiles.remuxWithAudioDelay(synced, mp4, delay * 1_000_000L / Clip.FPS);
    MediaReader.Media m = MediaReader.read(mp4);
    assertEquals(clip.frames(), m.frames());
    // the clip's first sound plays at frame 5: silence before it, then the clip's audio, cut at the clip's end
    int lead = delay * Clip.SAMPLES_PER_FRAME;
    float[] expected = new float[clip.audio().length];
    System.arraycopy(clip.audio(), 0, expected, lead, expected.length - lead);
    double[] align = AudioMatch.alignment(expected, m.audio(), 400);
    assertEquals(0, align[0], "audio lag in samples");
    assertTrue(align[1] > 0.99, "audio correlation " + align[1]);
    // silent (the encoder's priming frame, remuxed without its skip marker, decodes to near zero just before)
    for (int i = 0; i < lead - 16; i++) {
      assertEquals(0f, m.audio()[i], 1e-4f, "sample " + i + " comes before the clip's sound starts");
    }
    assertEquals((clip.frames() + delay) / (double) Clip.FPS, m.audioSeconds(), 0.03, "where the audio ends");
  }

  @Test
  void unencodableAudioRateIsAClearErrorAndLeavesNothing() throws Exception {
    Path mp4 = tmp.resolve("odd.mp4");
    MediaException e = assertThrows(MediaException.class,
        () -> Mp4Writer.write(mp4, TestClips.clip(32, 1, 24), Mp4Writer.Options.DEFAULT.withAudioSampleRate(12_345)));
    assertTrue(e.getMessage().contains(mp4.toString()) && e.getMessage().contains("12345"), e.getMessage());
    assertFalse(Files.exists(mp4));
    try (Stream<Path> files = Files.list(tmp)) {
      assertEquals(0, files.count(), "no temporary file left");
    }
  }

  @Test
  void oddFrameSizeIsRefused() {
    Clip odd = io.mforce.data.TalkingFaceGenerator.ofSeconds(9, 0.2).generate(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Mp4Writer.write(tmp.resolve("odd.mp4"), odd));
    assertTrue(e.getMessage().contains("even"), e.getMessage());
    Mp4Writer.write(tmp.resolve("even.mp4"), odd, Mp4Writer.Options.DEFAULT.withScale(2));
    assertEquals(18, MediaReader.read(tmp.resolve("even.mp4")).width());
  }

  /** A scale whose frame sides overflow an int is refused; 32·(2^27 + 1) wrapped to 32 and wrote a wrong video. */
  @Test
  void aScaleBeyondAnyFrameSizeIsRefused() {
    Path mp4 = tmp.resolve("huge.mp4");
    int scale = (1 << 27) + 1;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Mp4Writer.write(mp4, TestClips.clip(32, 1, 24), Mp4Writer.Options.DEFAULT.withScale(scale)));
    assertTrue(e.getMessage().contains("scale " + scale) && e.getMessage().contains("4294967328x4294967328"),
        e.getMessage());
    assertFalse(Files.exists(mp4));
  }

  @Test
  void framesTooSmallForTheEncoderAreRefusedClearly() throws Exception {
    Clip small = io.mforce.data.TalkingFaceGenerator.ofSeconds(8, 0.08).generate(1);
    Path mp4 = tmp.resolve("small.mp4");
    if (Mp4Writer.encoders().video().equals("libopenh264")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mp4Writer.write(mp4, small));
      assertTrue(e.getMessage().contains("8x8") && e.getMessage().contains("16x16")
          && e.getMessage().contains("scale"), e.getMessage());
      assertFalse(Files.exists(mp4));
    }
    Mp4Writer.write(mp4, small, Mp4Writer.Options.DEFAULT.withScale(2));
    assertEquals(16, MediaReader.read(mp4).width());
  }

  @Test
  void framesTooLargeForTheEncoderAreRefusedClearly() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Mp4Writer.encoders().video().equals("libopenh264"));
    // 193 x 192 macroblocks of 16x16: one row of macroblocks more than H.264 level 5.2's 36,864
    Clip large = new Clip(1, 3072, 3088, new byte[3072 * 3088 * 3], new float[Clip.SAMPLES_PER_FRAME],
        new int[io.mforce.data.Attribute.COUNT], List.of());
    Path mp4 = tmp.resolve("large.mp4");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mp4Writer.write(mp4, large));
    assertTrue(e.getMessage().contains("3088x3072") && e.getMessage().contains("36864"), e.getMessage());
    assertFalse(Files.exists(mp4));
  }

  /** Half a bit per pixel at 25 fps, at least 400 kbit/s, and at most what FFmpegFrameRecorder's int holds. */
  @Test
  void videoBitrateGrowsWithTheFrameWithoutOverflowing() {
    assertEquals(400_000, Mp4Writer.videoBitrate(32, 32));
    assertEquals(12_800_000, Mp4Writer.videoBitrate(1024, 1000));
    assertEquals(1_250_000_000, Mp4Writer.videoBitrate(10_000, 10_000)); // 100 megapixels: 25·w·h passes 2^31
    assertEquals(Integer.MAX_VALUE, Mp4Writer.videoBitrate(16_384, 16_384));
  }

  @Test
  void videoIsH264AndAudioIsAacAsReported() throws Exception {
    Path mp4 = tmp.resolve("codecs.mp4");
    Mp4Writer.Encoders used = Mp4Writer.write(mp4, TestClips.clip(32, 1, 25));
    assertTrue(List.of("libx264", "libopenh264").contains(used.video()), "video encoder " + used.video());
    assertEquals(Mp4Writer.encoders(), used);
    FFmpegFrameGrabber grabber = new FFmpegFrameGrabber(mp4.toFile());
    try {
      grabber.start();
      assertEquals(AV_CODEC_ID_H264, grabber.getVideoCodec(), "video codec id in " + mp4);
      assertEquals(AV_CODEC_ID_AAC, grabber.getAudioCodec(), "audio codec id in " + mp4);
    } finally {
      grabber.release();
    }
  }
}
