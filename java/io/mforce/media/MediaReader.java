package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_AUDIO;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import io.mforce.data.Clip;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.ffmpeg.avcodec.AVCodecParameters;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;


/**
 * Reads a media file FFmpeg understands (MP4 and the like) into 25 fps RGB frames and 16 kHz
 * mono audio, the data set's timing.
 *
 * <p>Audio: FFmpeg resamples from any rate and mixes down to mono. Video: the source frames are
 * re-timed to 25 fps by taking, for each output frame {@code f}, the source frame whose
 * timestamp is nearest to {@code f / 25} s after the first one; the clip has
 * {@code round(video duration * 25)} frames, and the audio is cut or zero-padded to
 * {@code 640 * frames} samples. With a target size, each frame is centre-cropped to a square
 * and box-filtered down (or enlarged, nearest neighbour) to {@code size x size} as it is read.
 *
 * <p>Errors name the file: not readable by FFmpeg (corrupt, not media), no video stream, no
 * audio track, no frames (zero length).
 */
public final class MediaReader {
  private MediaReader() {}

  static {
    FfmpegLog.errorsOnly();
  }

  /**
   * A decoded file: {@code frames} RGB frames {@code [frames, height, width, 3]} at 25 fps and
   * {@code frames * 640} samples of 16 kHz mono audio, with what the source had.
   */
  public record Media(int frames, int height, int width, byte[] video, float[] audio, double sourceFps,
      int sourceSampleRate, int sourceFrames) {
    /** As a {@link Clip} with unknown attributes and no transcript (real data carries neither). */
    public Clip toClip() {
      return new Clip(frames, height, width, video, audio, new int[io.mforce.data.Attribute.COUNT], List.of());
    }
  }

  /** The file at its own frame size. */
  public static Media read(Path path) {
    return read(path, 0, Double.POSITIVE_INFINITY);
  }

  /**
   * @param size output frame side (centre crop, then resize); 0 keeps the source size
   * @param maxSeconds read at most this much from the start
   */
  public static Media read(Path path, int size, double maxSeconds) {
    if (!Files.isRegularFile(path)) {
      throw new MediaException("cannot read " + path + ": no such file");
    }
    FFmpegFrameGrabber grabber = new FFmpegFrameGrabber(path.toFile());
    grabber.setPixelFormat(AV_PIX_FMT_RGB24);
    grabber.setSampleMode(FrameGrabber.SampleMode.FLOAT);
    grabber.setSampleRate(Clip.SAMPLE_RATE);
    grabber.setAudioChannels(1);
    try {
      try {
        grabber.start();
      } catch (FrameGrabber.Exception e) {
        throw new MediaException("cannot read " + path + ": FFmpeg cannot open it as media (corrupt, empty, or not a "
            + "media file): " + e.getMessage(), e);
      }
      if (!grabber.hasVideo()) {
        throw new MediaException("cannot use " + path + ": it has no video stream");
      }
      if (!grabber.hasAudio()) {
        throw new MediaException("cannot use " + path + ": it has no audio track");
      }
      return decode(path, grabber, size, maxSeconds);
    } catch (FrameGrabber.Exception e) {
      throw new MediaException("cannot read " + path + ": decoding failed (corrupt?): " + e.getMessage(), e);
    } finally {
      try {
        grabber.release();
      } catch (FrameGrabber.Exception ignored) {
        // closing after a failure; the failure is what gets reported
      }
    }
  }

  private static Media decode(Path path, FFmpegFrameGrabber grabber, int size, double maxSeconds)
      throws FrameGrabber.Exception {
    int sourceRate = sourceSampleRate(grabber);
    double sourceFps = grabber.getFrameRate();
    List<byte[]> frames = new ArrayList<>();
    List<Long> stamps = new ArrayList<>();
    FloatCollector audio = new FloatCollector();
    int width = 0;
    int height = 0;
    long limit = Double.isInfinite(maxSeconds) ? Long.MAX_VALUE : (long) (maxSeconds * 1e6);
    Long first = null;
    Frame frame;
    while ((frame = grabber.grab()) != null) {
      if (frame.image != null) {
        if (first == null) {
          first = frame.timestamp;
        }
        if (frame.timestamp - first > limit) {
          continue;
        }
        byte[] rgb = rgb(frame);
        if (size > 0) {
          rgb = Frames.cropResize(rgb, frame.imageHeight, frame.imageWidth, size);
          width = size;
          height = size;
        } else {
          width = frame.imageWidth;
          height = frame.imageHeight;
        }
        frames.add(rgb);
        stamps.add(frame.timestamp);
      } else if (frame.samples != null) {
        audio.add((FloatBuffer) frame.samples[0]);
      }
    }
    if (frames.isEmpty()) {
      throw new MediaException("cannot use " + path + ": it has no video frames (zero-length clip)");
    }
    double frameSeconds = sourceFps > 0 ? 1 / sourceFps : 1.0 / Clip.FPS;
    double duration = Math.min(maxSeconds, (stamps.get(stamps.size() - 1) - first) / 1e6 + frameSeconds);
    int count = (int) Math.round(duration * Clip.FPS);
    if (count < 1) {
      throw new MediaException("cannot use " + path + ": it lasts " + duration + " s, less than one 25 fps frame");
    }
    int frameBytes = height * width * 3;
    byte[] video = new byte[count * frameBytes];
    int src = 0;
    for (int f = 0; f < count; f++) {
      long t = first + Math.round(f * 1e6 / Clip.FPS);
      while (src + 1 < stamps.size() && Math.abs(stamps.get(src + 1) - t) <= Math.abs(stamps.get(src) - t)) {
        src++;
      }
      System.arraycopy(frames.get(src), 0, video, f * frameBytes, frameBytes);
    }
    float[] pcm = Arrays.copyOf(audio.toArray(), count * Clip.SAMPLES_PER_FRAME);
    return new Media(count, height, width, video, pcm, sourceFps, sourceRate, frames.size());
  }

  /** The audio stream's own sample rate (the grabber reports the rate it resamples to). */
  private static int sourceSampleRate(FFmpegFrameGrabber grabber) {
    AVFormatContext context = grabber.getFormatContext();
    for (int i = 0; i < context.nb_streams(); i++) {
      AVCodecParameters p = context.streams(i).codecpar();
      if (p.codec_type() == AVMEDIA_TYPE_AUDIO) {
        return p.sample_rate();
      }
    }
    return 0;
  }

  /** The frame's pixels as tightly packed RGB. */
  private static byte[] rgb(Frame frame) {
    ByteBuffer buf = (ByteBuffer) frame.image[0];
    int rowBytes = frame.imageWidth * 3;
    byte[] out = new byte[frame.imageHeight * rowBytes];
    for (int y = 0; y < frame.imageHeight; y++) {
      buf.get(y * frame.imageStride, out, y * rowBytes, rowBytes);
    }
    return out;
  }

  /** A growing float array. */
  private static final class FloatCollector {
    private float[] data = new float[1 << 16];
    private int size;

    void add(FloatBuffer b) {
      FloatBuffer src = b.duplicate();
      int n = src.remaining();
      if (size + n > data.length) {
        data = Arrays.copyOf(data, Math.max(2 * data.length, size + n));
      }
      src.get(data, size, n);
      size += n;
    }

    float[] toArray() {
      return Arrays.copyOf(data, size);
    }
  }
}
