package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder_by_name;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import io.mforce.data.Clip;
import io.mforce.runtime.AtomicFiles;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;


/**
 * Writes a {@link Clip} as an MP4 (through FFmpeg): H.264 video at 25 fps in yuv420p, AAC audio,
 * mono. The H.264 encoder is {@code libx264} where the FFmpeg build has it; the
 * {@code org.bytedeco:ffmpeg} preset this project uses ships {@code libopenh264} instead (LGPL
 * build), which is used then. There is no fallback to another video codec: a build without
 * either is a {@link MediaException}, since the data set's MP4s are promised to be H.264. Each
 * write returns the {@link Encoders} it used, so callers can report them. Frames and audio are
 * written interleaved frame by frame (frame {@code f}, then its 640 samples), so the streams stay
 * in sync; the file lasts {@code frames / 25} seconds (the decoded audio runs a few ms longer:
 * the AAC encoder pads its last 1024-sample frame; see {@link MediaReader.Media#audioSeconds()}).
 * Frames may be enlarged {@code scale} times (nearest neighbour) so a 32x32 clip is big enough to
 * watch. Sides must be even (yuv420p), and with libopenh264 at least 16 pixels and at most 36,864
 * macroblocks of 16x16 in all (3072x3072): other sizes are an {@link IllegalArgumentException}
 * before anything is written.
 * The file is written to a temporary file and renamed into place; on failure nothing is left.
 */
public final class Mp4Writer {
  private Mp4Writer() {}

  static {
    FfmpegLog.errorsOnly();
  }

  /**
   * @param scale enlarge frames this many times (nearest neighbour), >= 1
   * @param audioSampleRate sample rate of the AAC stream (the clip's 16 kHz audio is resampled)
   * @param audioBitrate AAC bit rate, bits per second
   */
  public record Options(int scale, int audioSampleRate, int audioBitrate) {
    public static final Options DEFAULT = new Options(1, Clip.SAMPLE_RATE, 96_000);

    public Options withScale(int s) {
      return new Options(s, audioSampleRate, audioBitrate);
    }

    public Options withAudioSampleRate(int rate) {
      return new Options(scale, rate, audioBitrate);
    }
  }

  /** The smallest frame side libopenh264 encodes. */
  private static final int OPENH264_MIN_SIDE = 16;
  /** The most 16x16 macroblocks in a frame libopenh264 encodes (H.264 level 5.2's MaxFS). */
  private static final int OPENH264_MAX_MACROBLOCKS = 36_864;

  /** The H.264 encoders tried, in order of preference. */
  private static final List<String> H264_ENCODERS = List.of("libx264", "libopenh264");

  /**
   * The FFmpeg encoders a write used.
   *
   * @param video the H.264 encoder, "libx264" or "libopenh264"
   * @param audio the AAC encoder, e.g. "aac" (FFmpeg's own)
   */
  public record Encoders(String video, String audio) {
    /** As the CLI prints it: {@code H.264 (libopenh264) + AAC (aac)}. */
    @Override
    public String toString() {
      return "H.264 (" + video + ") + AAC (" + audio + ")";
    }
  }

  /** The encoders a write would use here; a {@link MediaException} if FFmpeg has no H.264 or AAC encoder. */
  public static Encoders encoders() {
    String video = H264_ENCODERS.stream().filter(name -> avcodec_find_encoder_by_name(name) != null).findFirst()
        .orElseThrow(() -> new MediaException("mp4: this FFmpeg build has no H.264 encoder (tried "
            + String.join(", ", H264_ENCODERS) + "); MP4 output needs one"));
    AVCodec aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (aac == null) {
      throw new MediaException("mp4: this FFmpeg build has no AAC encoder; MP4 output needs one");
    }
    return new Encoders(video, aac.name().getString());
  }

  public static Encoders write(Path path, Clip clip) {
    return write(path, clip, Options.DEFAULT);
  }

  /** Writes {@code clip} to {@code path}; returns the encoders used. */
  public static Encoders write(Path path, Clip clip, Options options) {
    int scale = options.scale();
    if (scale < 1) {
      throw new IllegalArgumentException("mp4: scale " + scale + "; expected >= 1");
    }
    long scaledWidth = (long) clip.width() * scale;
    long scaledHeight = (long) clip.height() * scale;
    if (Math.max(scaledWidth, scaledHeight) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("mp4: scale " + scale + " makes " + clip.width() + "x" + clip.height()
          + " frames " + scaledWidth + "x" + scaledHeight + ", beyond any encoder's frame size: use a smaller scale");
    }
    int width = (int) scaledWidth;
    int height = (int) scaledHeight;
    if (width % 2 != 0 || height % 2 != 0) {
      throw new IllegalArgumentException("mp4: frame size " + width + "x" + height
          + " is odd; H.264 in yuv420p needs even sides (use an even size or scale 2)");
    }
    Encoders encoders = encoders();
    if (encoders.video().equals("libopenh264")) {
      checkOpenH264Size(width, height, Math.min(clip.width(), clip.height()));
    }
    AtomicFiles.write(path, tmp -> encode(tmp, path, clip, options, encoders, width, height));
    return encoders;
  }

  private static void encode(Path tmp, Path target, Clip clip, Options options, Encoders encoders, int width,
      int height) {
    FFmpegFrameRecorder recorder = new FFmpegFrameRecorder(tmp.toFile(), width, height, 1);
    try {
      recorder.setFormat("mp4");
      recorder.setVideoCodec(AV_CODEC_ID_H264);
      recorder.setVideoCodecName(encoders.video());
      recorder.setPixelFormat(AV_PIX_FMT_YUV420P);
      recorder.setFrameRate(Clip.FPS);
      recorder.setGopSize(Clip.FPS);
      recorder.setVideoBitrate(videoBitrate(width, height));
      recorder.setVideoOption("allow_skip_frames", "0");
      recorder.setAudioCodec(AV_CODEC_ID_AAC);
      recorder.setAudioCodecName(encoders.audio());
      recorder.setAudioChannels(1);
      recorder.setSampleRate(options.audioSampleRate());
      recorder.setAudioBitrate(options.audioBitrate());
      recorder.start();
      // the frame's pixels are native memory, freed only by close (the launcher turns JavaCPP's GC off)
      try (Frame frame = new Frame(width, height, Frame.DEPTH_UBYTE, 3)) {
        float[] audio = clip.audio();
        for (int f = 0; f < clip.frames(); f++) {
          fill(frame, clip, f, options.scale());
          recorder.record(frame, AV_PIX_FMT_RGB24);
          // a buffer of its own: JavaCPP reads heap buffers from their array's start, ignoring a slice's offset
          FloatBuffer samples = FloatBuffer.wrap(
              Arrays.copyOfRange(audio, f * Clip.SAMPLES_PER_FRAME, (f + 1) * Clip.SAMPLES_PER_FRAME));
          recorder.recordSamples(Clip.SAMPLE_RATE, 1, samples);
        }
      }
      recorder.stop();
    } catch (FFmpegFrameRecorder.Exception e) {
      throw new MediaException("mp4: cannot write " + target + " (" + encoders + ", " + width + "x" + height
          + ", audio " + options.audioSampleRate() + " Hz): " + e.getMessage(), e);
    } finally {
      try {
        recorder.release();
      } catch (FFmpegFrameRecorder.Exception ignored) {
        // releasing after a failure; the failure is what gets reported
      }
    }
  }

  /**
   * The video bit rate, bits per second: half a bit per pixel at 25 fps, at least 400 kbit/s.
   * Computed in long: 25·w·h passes 2^31 above 86 megapixels, which libx264 takes (libopenh264
   * stops at 9.4); above 172 megapixels it is capped at the int FFmpegFrameRecorder takes.
   */
  static int videoBitrate(int width, int height) {
    long bits = (long) width * height * Clip.FPS / 2;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(400_000, bits));
  }

  /**
   * Refuses sizes libopenh264 cannot encode, which it reports only as an opaque FFmpeg error code
   * (at the first frame, or when the codec opens).
   */
  private static void checkOpenH264Size(int width, int height, int clipSide) {
    if (width < OPENH264_MIN_SIDE || height < OPENH264_MIN_SIDE) {
      throw new IllegalArgumentException("mp4: frame size " + width + "x" + height + " is smaller than "
          + OPENH264_MIN_SIDE + "x" + OPENH264_MIN_SIDE + ", the least libopenh264 encodes (use scale "
          + ceilDiv(OPENH264_MIN_SIDE, clipSide) + " or more)");
    }
    long macroblocks = (long) ceilDiv(width, 16) * ceilDiv(height, 16);
    if (macroblocks > OPENH264_MAX_MACROBLOCKS) {
      throw new IllegalArgumentException("mp4: frame size " + width + "x" + height + " is " + macroblocks
          + " macroblocks of 16x16; libopenh264 encodes at most " + OPENH264_MAX_MACROBLOCKS
          + " (H.264 level 5.2, e.g. 3072x3072 or 4096x2304): use a smaller scale");
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** Copies frame {@code f} of the clip into {@code frame}, enlarged {@code scale} times. */
  private static void fill(Frame frame, Clip clip, int f, int scale) {
    ByteBuffer buf = (ByteBuffer) frame.image[0];
    byte[] video = clip.video();
    int base = f * clip.frameBytes();
    int w = clip.width();
    byte[] row = new byte[frame.imageWidth * 3];
    for (int y = 0; y < frame.imageHeight; y++) {
      int src = base + (y / scale) * w * 3;
      for (int x = 0; x < frame.imageWidth; x++) {
        int p = src + (x / scale) * 3;
        row[3 * x] = video[p];
        row[3 * x + 1] = video[p + 1];
        row[3 * x + 2] = video[p + 2];
      }
      buf.put(y * frame.imageStride, row);
    }
  }
}
