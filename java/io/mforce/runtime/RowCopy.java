package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaMemcpy2DAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDefault;


/**
 * Strided copies that views cannot express: {@code rows} runs of {@code width} elements, run r
 * read from element {@code srcOffset + r·srcPitch} of {@code src} and written to element
 * {@code dstOffset + r·dstPitch} of {@code dst} (cudaMemcpy2D's geometry, counted in elements).
 * The model uses it to interleave token rows of different sources into one sequence (e.g. a
 * chunk's audio tokens and its transcript token) and to pack per-sample pieces of a state.
 *
 * <p>Both tensors are contiguous and of one dtype, on any devices; the copy is queued on the
 * current stream of the CUDA device involved (no host synchronization between CUDA tensors, so
 * it can be captured into a {@link Graph}); copies that touch host memory complete before
 * returning. Every geometry is checked before anything is written.
 */
public final class RowCopy {
  private RowCopy() {}

  public static void copy(Tensor src, long srcOffset, long srcPitch, Tensor dst, long dstOffset, long dstPitch,
                          long width, long rows) {
    String op = "rowCopy";
    Check.contiguous(op, "src", src);
    Check.contiguous(op, "dst", dst);
    Check.sameDtype(op, "dst", dst, "src", src);
    if (width < 0 || rows < 0) {
      throw new IllegalArgumentException(op + ": width " + width + " and rows " + rows + " must be >= 0");
    }
    if (width == 0 || rows == 0) {
      return;
    }
    extent(op, "src", src, srcOffset, srcPitch, width, rows);
    extent(op, "dst", dst, dstOffset, dstPitch, width, rows);
    if (rows > 1 && dstPitch < width) {
      throw new IllegalArgumentException(op + ": dst pitch " + dstPitch + " is below the width " + width
          + " (written runs would overlap)");
    }
    long eb = src.dtype().bytes();
    long srcStart = src.address() + srcOffset * eb;
    long dstStart = dst.address() + dstOffset * eb;
    long srcEnd = srcStart + ((rows - 1) * srcPitch + width) * eb;
    long dstEnd = dstStart + ((rows - 1) * dstPitch + width) * eb;
    if (src.device().equals(dst.device()) && srcStart < dstEnd && dstStart < srcEnd) {
      throw new IllegalArgumentException(op + ": the source and destination ranges overlap");
    }
    if (!src.device().isCuda() && !dst.device().isCuda()) {
      if (srcPitch == width && dstPitch == width) {
        RawPointer.memcpy(dstStart, srcStart, rows * width * eb);
      } else {
        for (long r = 0; r < rows; r++) {
          RawPointer.memcpy(dstStart + r * dstPitch * eb, srcStart + r * srcPitch * eb, width * eb);
        }
      }
      return;
    }
    Stream s = CopyStreams.before(src.device(), dst.device());
    Cuda.check(cudaMemcpy2DAsync(new RawPointer(dstStart, dstEnd - dstStart), dstPitch * eb,
        new RawPointer(srcStart, srcEnd - srcStart), srcPitch * eb, width * eb, rows, cudaMemcpyDefault,
        s.cudaStream()), "cudaMemcpy2DAsync " + src.device() + " -> " + dst.device());
    CopyStreams.after(s, src.device(), dst.device());
  }

  private static void extent(String op, String name, Tensor t, long offset, long pitch, long width, long rows) {
    if (offset < 0 || pitch < 0) {
      throw new IllegalArgumentException(op + ": " + name + " offset " + offset + " and pitch " + pitch
          + " must be >= 0");
    }
    String last;
    boolean overrun;
    try {
      long end = Math.addExact(Math.addExact(offset, Math.multiplyExact(rows - 1, pitch)), width);
      last = Long.toString(end);
      overrun = end > t.numel();
    } catch (ArithmeticException overflow) {
      last = "past 2^63";
      overrun = true;
    }
    if (overrun) {
      throw new IllegalArgumentException(op + ": " + rows + " runs of " + width + " elements at offset " + offset
          + ", pitch " + pitch + " reach element " + last + " of " + name + " " + t.describe() + " ("
          + t.numel() + " elements)");
    }
  }
}
