/**
 * Media files: MP4 through FFmpeg ({@code org.bytedeco} javacv and ffmpeg presets),
 * {@link io.mforce.media.Mp4Writer} (H.264 + AAC, atomic) and {@link io.mforce.media.MediaReader}
 * (25 fps RGB frames and 16 kHz mono audio from any file FFmpeg reads); 16-bit PCM
 * {@link io.mforce.media.Wav}; {@link io.mforce.media.PngStrip} contact sheets; and
 * {@link io.mforce.media.Importer}, which turns a folder of real videos into a data set, skipping
 * and listing the files it cannot use. Errors name the file ({@link io.mforce.media.MediaException}).
 */
package io.mforce.media;
