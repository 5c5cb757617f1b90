package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MPEG4;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;

import io.mforce.data.Clip;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

/** Odd media files for the bad-input tests, made with FFmpeg directly. */
final class MediaFiles {
  private MediaFiles() {}

  /** An MP4 of {@code frames} grey frames with, if {@code audio}, a 440 Hz tone; 0 frames gives an empty file body. */
  static void write(Path path, int frames, boolean audio) throws Exception {
    FFmpegFrameRecorder r = new FFmpegFrameRecorder(path.toFile(), 32, 32, audio ? 1 : 0);
    r.setFormat("mp4");
    r.setVideoCodec(AV_CODEC_ID_MPEG4);
    r.setPixelFormat(AV_PIX_FMT_YUV420P);
    r.setFrameRate(Clip.FPS);
    if (audio) {
      r.setAudioCodec(AV_CODEC_ID_AAC);
      r.setSampleRate(Clip.SAMPLE_RATE);
    }
    r.start();
    Frame frame = new Frame(32, 32, Frame.DEPTH_UBYTE, 3);
    ByteBuffer buf = (ByteBuffer) frame.image[0];
    for (int i = 0; i < buf.capacity(); i++) {
      buf.put(i, (byte) 128);
    }
    for (int f = 0; f < frames; f++) {
      r.record(frame, AV_PIX_FMT_RGB24);
      if (audio) {
        float[] tone = new float[Clip.SAMPLES_PER_FRAME];
        for (int i = 0; i < tone.length; i++) {
          tone[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * (f * tone.length + i) / Clip.SAMPLE_RATE));
        }
        r.recordSamples(Clip.SAMPLE_RATE, 1, FloatBuffer.wrap(tone));
      }
    }
    r.stop();
    r.release();
  }
}
