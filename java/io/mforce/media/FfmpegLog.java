package io.mforce.media;

import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_ERROR;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;

/**
 * FFmpeg logs every stream it opens at INFO level on standard error; mforce reports failures
 * itself (as {@link MediaException}s), so the writer and the reader limit FFmpeg's own log to
 * errors when they load.
 */
final class FfmpegLog {
  private FfmpegLog() {}

  static void errorsOnly() {
    av_log_set_level(AV_LOG_ERROR);
  }
}
