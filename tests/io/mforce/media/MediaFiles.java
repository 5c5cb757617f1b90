package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MPEG4;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_rescale_ts;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_copy;
import static org.bytedeco.ffmpeg.global.avformat.AVIO_FLAG_WRITE;
import static org.bytedeco.ffmpeg.global.avformat.av_interleaved_write_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_write_trailer;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_output_context2;
import static org.bytedeco.ffmpeg.global.avformat.avformat_close_input;
import static org.bytedeco.ffmpeg.global.avformat.avformat_find_stream_info;
import static org.bytedeco.ffmpeg.global.avformat.avformat_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_new_stream;
import static org.bytedeco.ffmpeg.global.avformat.avformat_open_input;
import static org.bytedeco.ffmpeg.global.avformat.avformat_write_header;
import static org.bytedeco.ffmpeg.global.avformat.avio_closep;
import static org.bytedeco.ffmpeg.global.avformat.avio_open;
import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_AUDIO;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.av_make_q;
import static org.bytedeco.ffmpeg.global.avutil.av_rescale_q;

import io.mforce.data.Clip;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVInputFormat;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

/** Odd media files for the bad-input tests, made with FFmpeg directly. */
final class MediaFiles {
  private MediaFiles() {}

  /** A started MP4 recorder: MPEG-4 video at 25 fps (not the writer's H.264: they test the reader alone), AAC. */
  private static FFmpegFrameRecorder started(Path path, int width, int height, boolean audio) throws Exception {
    FFmpegFrameRecorder r = new FFmpegFrameRecorder(path.toFile(), width, height, audio ? 1 : 0);
    r.setFormat("mp4");
    r.setVideoCodec(AV_CODEC_ID_MPEG4);
    r.setVideoBitrate(800_000);
    r.setPixelFormat(AV_PIX_FMT_YUV420P);
    r.setFrameRate(Clip.FPS);
    if (audio) {
      r.setAudioCodec(AV_CODEC_ID_AAC);
      r.setSampleRate(Clip.SAMPLE_RATE);
      r.setAudioBitrate(96_000);
    }
    r.start();
    return r;
  }

  /** An MP4 of {@code frames} grey frames with, if {@code audio}, a 440 Hz tone; 0 frames gives an empty file body. */
  static void write(Path path, int frames, boolean audio) throws Exception {
    writeStreams(path, frames, 0, audio ? frames : 0);
  }

  /**
   * An MP4 on a timeline of {@code frames} 25 fps frames: grey video frames from frame
   * {@code videoFrom} on, a 440 Hz tone during the first {@code audioFrames} (no audio stream
   * if 0).
   */
  static void writeStreams(Path path, int frames, int videoFrom, int audioFrames) throws Exception {
    FFmpegFrameRecorder r = started(path, 32, 32, audioFrames > 0);
    try (Frame frame = new Frame(32, 32, Frame.DEPTH_UBYTE, 3)) {
      ByteBuffer buf = (ByteBuffer) frame.image[0];
      for (int i = 0; i < buf.capacity(); i++) {
        buf.put(i, (byte) 128);
      }
      for (int f = 0; f < frames; f++) {
        if (f >= videoFrom) {
          r.setTimestamp(f * 1_000_000L / Clip.FPS);
          r.record(frame, AV_PIX_FMT_RGB24);
        }
        if (f < audioFrames) {
          float[] tone = new float[Clip.SAMPLES_PER_FRAME];
          for (int i = 0; i < tone.length; i++) {
            tone[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * (f * tone.length + i) / Clip.SAMPLE_RATE));
          }
          r.recordSamples(Clip.SAMPLE_RATE, 1, FloatBuffer.wrap(tone));
        }
      }
    }
    r.stop();
    r.release();
  }

  /**
   * {@code clip} as an MP4 whose video stream starts {@code skip} frames after its audio: all of
   * the clip's audio from time 0, its frames from {@code skip} on at their own times.
   */
  static void writeLateVideo(Path path, Clip clip, int skip) throws Exception {
    FFmpegFrameRecorder r = started(path, clip.width(), clip.height(), true);
    try (Frame frame = new Frame(clip.width(), clip.height(), Frame.DEPTH_UBYTE, 3)) {
      ByteBuffer buf = (ByteBuffer) frame.image[0];
      int rowBytes = clip.width() * 3;
      for (int f = 0; f < clip.frames(); f++) {
        if (f >= skip) {
          for (int y = 0; y < clip.height(); y++) {
            buf.put(y * frame.imageStride, clip.video(), f * clip.frameBytes() + y * rowBytes, rowBytes);
          }
          r.setTimestamp(f * 1_000_000L / Clip.FPS);
          r.record(frame, AV_PIX_FMT_RGB24);
        }
        r.recordSamples(Clip.SAMPLE_RATE, 1, FloatBuffer.wrap(
            Arrays.copyOfRange(clip.audio(), f * Clip.SAMPLES_PER_FRAME, (f + 1) * Clip.SAMPLES_PER_FRAME)));
      }
    }
    r.stop();
    r.release();
  }

  /**
   * A copy of the MP4 {@code source} whose audio packets play {@code delayMicros} later, as
   * {@code ffmpeg -itsoffset} makes one: the streams are remuxed (the muxer writes the delay as an
   * edit list), not re-encoded, so only the audio's start time changes.
   */
  static void remuxWithAudioDelay(Path source, Path target, long delayMicros) throws Exception {
    AVFormatContext in = new AVFormatContext(null);
    check(avformat_open_input(in, source.toString(), (AVInputFormat) null, (AVDictionary) null), "open " + source);
    AVFormatContext out = new AVFormatContext(null);
    AVPacket packet = av_packet_alloc();
    try {
      check(avformat_find_stream_info(in, (PointerPointer<?>) null), "read the streams of " + source);
      check(avformat_alloc_output_context2(out, null, "mp4", target.toString()), "create " + target);
      for (int i = 0; i < in.nb_streams(); i++) {
        AVStream stream = avformat_new_stream(out, null);
        check(avcodec_parameters_copy(stream.codecpar(), in.streams(i).codecpar()), "copy stream " + i);
        stream.codecpar().codec_tag(0);
        stream.time_base(in.streams(i).time_base());
      }
      AVIOContext io = new AVIOContext(null);
      check(avio_open(io, target.toString(), AVIO_FLAG_WRITE), "open " + target);
      out.pb(io);
      check(avformat_write_header(out, (AVDictionary) null), "write the header of " + target);
      while (av_read_frame(in, packet) >= 0) {
        AVStream from = in.streams(packet.stream_index());
        if (from.codecpar().codec_type() == AVMEDIA_TYPE_AUDIO) {
          long shift = av_rescale_q(delayMicros, av_make_q(1, 1_000_000), from.time_base());
          packet.pts(packet.pts() + shift);
          packet.dts(packet.dts() + shift);
        }
        av_packet_rescale_ts(packet, from.time_base(), out.streams(packet.stream_index()).time_base());
        packet.pos(-1);
        check(av_interleaved_write_frame(out, packet), "write a packet to " + target);
        av_packet_unref(packet);
      }
      check(av_write_trailer(out), "finish " + target);
    } finally {
      av_packet_free(packet);
      if (out.pb() != null) {
        avio_closep(out.pb());
      }
      avformat_free_context(out);
      avformat_close_input(in);
    }
  }

  private static void check(int status, String what) {
    if (status < 0) {
      throw new IllegalStateException("FFmpeg could not " + what + " (error " + status + ")");
    }
  }
}
