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
import java.util.Locale;
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
 * {@code round(video duration * 25)} frames, at most as many whole frames as fit in
 * {@code maxSeconds}. The first video frame is time 0 for both streams:
 * audio whose stream starts earlier is trimmed by the difference of the start timestamps, audio
 * that starts later is preceded by silence, so a file whose streams start at different times
 * stays in sync; the audio is then cut or zero-padded to {@code 640 * frames} samples (audio
 * that does not overlap the clip at all is an error). Decoding stops once both streams are past
 * {@code maxSeconds}, or one is and the other has ended (not reached it 10 s later: FFmpeg's
 * muxers interleave streams closer than that); neither stream is kept past it. With a target
 * size, each frame is centre-cropped to a square and box-filtered down (or enlarged, nearest
 * neighbour) to {@code size x size} as it is read.
 *
 * <p>Errors name the file: not readable by FFmpeg (corrupt, truncated, not media), no stream with
 * data (an empty recording), no video stream, no audio track, no frames (zero length), more
 * frames than one clip holds at their size (2 GiB of RGB: 31 s of 1280x720).
 */
public final class MediaReader {
  /** FFmpeg's default max_interleave_delta: how far apart in time a muxer lets streams drift. */
  private static final long INTERLEAVE_US = 10_000_000;
  /** The largest clip video: the largest Java byte array (a clip's frames are one array). */
  static final int MAX_VIDEO_BYTES = Integer.MAX_VALUE - 8;

  private MediaReader() {}

  static {
    FfmpegLog.errorsOnly();
  }

  /**
   * A decoded file: {@code frames} RGB frames {@code [frames, height, width, 3]} at 25 fps and
   * {@code frames * 640} samples of 16 kHz mono audio, with what the source had.
   *
   * @param sourceFrames video frames decoded from the file (reading stops soon after
   *     {@code maxSeconds}, so this is not always every frame in it)
   * @param videoSeconds the decoded video's length: last frame's timestamp minus the first's, plus
   *     one source frame
   * @param audioSeconds where the decoded audio ends, in seconds after the first video frame,
   *     before it is cut or padded to {@code frames * 640} samples
   */
  public record Media(int frames, int height, int width, byte[] video, float[] audio, double sourceFps,
      int sourceSampleRate, int sourceFrames, double videoSeconds, double audioSeconds) {
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
        // javacv's wording when the container opened but holds no usable stream (e.g. an MP4
        // recorded with zero frames); anything else is a file FFmpeg cannot parse at all
        if (String.valueOf(e.getMessage()).startsWith("Did not find a video or audio stream")) {
          throw new MediaException("cannot use " + path + ": it holds no video or audio stream with data "
              + "(an empty, zero-length recording)", e);
        }
        throw new MediaException("cannot read " + path + ": FFmpeg cannot open it as media (corrupt, truncated, or "
            + "not a media file): " + e.getMessage(), e);
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
    // a stream still short of the limit this long after the other passed it has ended
    long horizon = limit > Long.MAX_VALUE - INTERLEAVE_US ? Long.MAX_VALUE : limit + INTERLEAVE_US;
    int decoded = 0;
    Long first = null;
    Long firstAudio = null;
    long videoAt = 0; // µs after the first frame: of the last video frame, and where the audio ends
    long audioAt = 0;
    long stoppedAt = -1; // where decoding stopped early, or -1 at the end of the file
    Frame frame;
    while ((frame = grabber.grab()) != null) {
      if (frame.image != null) {
        decoded++;
        if (first == null) {
          first = frame.timestamp;
        }
        videoAt = frame.timestamp - first;
        if (videoAt <= limit) {
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
        }
      } else if (frame.samples != null) {
        if (first == null || audioAt <= limit) {
          if (firstAudio == null) {
            firstAudio = frame.timestamp;
          }
          audio.add((FloatBuffer) frame.samples[0]);
          if (first != null) {
            audioAt = firstAudio + Math.round(audio.size() * 1e6 / Clip.SAMPLE_RATE) - first;
          }
        } else {
          audioAt = Math.max(audioAt, frame.timestamp - first); // past the limit: not kept
        }
      }
      // past maxSeconds in both streams, or in one while the other has ended: the rest of the
      // file is not decoded
      boolean videoPast = first != null && videoAt > limit;
      boolean audioPast = firstAudio != null && first != null && audioAt > limit;
      if ((videoPast && audioPast) || (videoPast && videoAt > horizon) || (audioPast && audioAt > horizon)) {
        stoppedAt = Math.max(videoAt, audioAt);
        break;
      }
    }
    if (frames.isEmpty()) {
      throw new MediaException("cannot use " + path + ": it has no video frames (zero-length clip)");
    }
    double frameSeconds = sourceFps > 0 ? 1 / sourceFps : 1.0 / Clip.FPS;
    double videoSeconds = (stamps.get(stamps.size() - 1) - first) / 1e6 + frameSeconds;
    // the video's length rounded to frames, but only whole frames within maxSeconds (never past it)
    long fit = (long) Math.floor(maxSeconds * Clip.FPS + 1e-9);
    int count = (int) Math.min(Math.round(videoSeconds * Clip.FPS), fit);
    if (count < 1) {
      throw new MediaException("cannot use " + path + ": " + (fit < 1 ? "maxSeconds " + maxSeconds + " s holds"
          : "it lasts " + videoSeconds + " s,") + " less than one 25 fps frame");
    }
    int frameBytes = height * width * 3;
    byte[] video = new byte[videoBytes(path, count, height, width)];
    int src = 0;
    for (int f = 0; f < count; f++) {
      long t = first + Math.round(f * 1e6 / Clip.FPS);
      while (src + 1 < stamps.size() && Math.abs(stamps.get(src + 1) - t) <= Math.abs(stamps.get(src) - t)) {
        src++;
      }
      System.arraycopy(frames.get(src), 0, video, f * frameBytes, frameBytes); // in int: videoBytes bounded the total
    }
    if (firstAudio == null) {
      throw new MediaException("cannot use " + path + ": its audio track holds no samples" + (stoppedAt < 0 ? ""
          : String.format(Locale.ROOT, " in the first %.1f s after the first video frame", stoppedAt / 1e6)));
    }
    // the audio stream may start before or after the first frame: place it on the video's clock
    long lead = Math.round((firstAudio - first) * Clip.SAMPLE_RATE / 1e6);
    long clipSamples = (long) count * Clip.SAMPLES_PER_FRAME;
    if (lead >= clipSamples || lead + audio.size() <= 0) {
      throw new MediaException(String.format(Locale.ROOT, "cannot use %s: its audio (%.3f s to %.3f s after the "
          + "first video frame) does not overlap the clip's %.3f s", path, (double) lead / Clip.SAMPLE_RATE,
          (double) (lead + audio.size()) / Clip.SAMPLE_RATE, (double) count / Clip.FPS));
    }
    float[] pcm = audio.placed(lead, count * Clip.SAMPLES_PER_FRAME);
    double audioSeconds = (double) (lead + audio.size()) / Clip.SAMPLE_RATE;
    return new Media(count, height, width, video, pcm, sourceFps, sourceRate, decoded, videoSeconds, audioSeconds);
  }

  /**
   * Bytes of {@code frames} RGB frames of {@code width x height}, the length of the clip's video
   * array, computed in {@code long} (a minute of 720p passes 2 GiB); a {@link MediaException}
   * naming the file above {@link #MAX_VIDEO_BYTES}.
   */
  static int videoBytes(Path path, int frames, int height, int width) {
    long frameBytes = 3L * height * width;
    long bytes = frames * frameBytes;
    if (bytes > MAX_VIDEO_BYTES) {
      long fit = MAX_VIDEO_BYTES / frameBytes;
      throw new MediaException(String.format(Locale.ROOT, "cannot use %s: %d frames of %dx%d (%.2f s at %d fps) "
          + "are %d bytes of RGB, more than a clip holds (one Java array, at most %d bytes: %d frames, %.2f s, at "
          + "this size); read it at a smaller size or a shorter span (MediaReader.read's size and maxSeconds)",
          path, frames, width, height, (double) frames / Clip.FPS, Clip.FPS, bytes, MAX_VIDEO_BYTES, fit,
          (double) fit / Clip.FPS));
    }
    return (int) bytes;
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

    int size() {
      return size;
    }

    /**
     * {@code length} samples in which the collected ones start at {@code lead} (negative: the
     * first {@code -lead} are dropped); the rest is silence.
     */
    float[] placed(long lead, int length) {
      float[] out = new float[length];
      long from = Math.max(0, -lead);
      long to = Math.min(size, length - lead);
      if (to > from) {
        System.arraycopy(data, (int) from, out, (int) (from + lead), (int) (to - from));
      }
      return out;
    }
  }
}
