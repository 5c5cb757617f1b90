package io.mforce.runtime;

import static org.bytedeco.cuda.global.cudart.cudaGraphDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphExecDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphInstantiate;
import static org.bytedeco.cuda.global.cudart.cudaGraphLaunch;
import static org.bytedeco.cuda.global.cudart.cudaStreamBeginCapture;
import static org.bytedeco.cuda.global.cudart.cudaStreamCaptureModeThreadLocal;
import static org.bytedeco.cuda.global.cudart.cudaStreamEndCapture;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;

/**
 * A recorded piece of work replayed with one call: a CUDA graph on CUDA, so that a streaming
 * chunk's hundreds of kernels cost one launch; on the CPU the work itself, run on each replay.
 *
 * <p>The work must be replayable: same tensors (addresses) every time, inputs updated in place
 * between replays. Tensors allocated during capture come from a pool private to this graph and
 * stay reserved until it is closed.
 */
public final class Graph implements AutoCloseable {
  private final Stream stream;
  private final Runnable cpuWork;
  private final CUgraph_st graph;
  private final CUgraphExec_st exec;
  private final MemoryPool.PrivatePool pool;
  private boolean closed;

  private Graph(Stream stream, Runnable cpuWork, CUgraph_st graph, CUgraphExec_st exec, MemoryPool.PrivatePool pool) {
    this.stream = stream;
    this.cpuWork = cpuWork;
    this.graph = graph;
    this.exec = exec;
    this.pool = pool;
  }

  /**
   * Records {@code work} as queued on {@code stream} (which becomes current while it runs),
   * without executing it: on CUDA the kernels are captured, not launched; on the CPU the work is
   * kept to be run by {@link #replay}. Either way, nothing has happened until the first replay.
   */
  public static Graph capture(Stream stream, Runnable work) {
    Check.notNull(stream, "stream");
    Check.notNull(work, "work");
    if (!stream.device().isCuda()) {
      return new Graph(stream, work, null, null, null);
    }
    MemoryPool memory = MemoryPool.of(stream.device());
    MemoryPool.PrivatePool pool = memory.beginPrivate(stream.handle());
    CUgraph_st graph = new CUgraph_st();
    boolean captured = false;
    try {
      try (Stream.Scope scope = Stream.use(stream)) {
        Cuda.check(cudaStreamBeginCapture(stream.cudaStream(), cudaStreamCaptureModeThreadLocal),
            "cudaStreamBeginCapture");
        RuntimeException failure = null;
        try {
          work.run();
        } catch (RuntimeException e) {
          failure = e;
        }
        int err = cudaStreamEndCapture(stream.cudaStream(), graph);
        captured = err == 0;
        if (failure != null) {
          throw failure; // the work's own error, not the capture's consequence of it
        }
        Cuda.check(err, "cudaStreamEndCapture (was a synchronizing call made during capture?)");
      } finally {
        memory.endPrivate(stream.handle());
      }
      CUgraphExec_st exec = new CUgraphExec_st();
      Cuda.check(cudaGraphInstantiate(exec, graph, 0L), "cudaGraphInstantiate");
      return new Graph(stream, null, graph, exec, pool);
    } catch (RuntimeException e) {
      if (captured) {
        cudaGraphDestroy(graph);
      }
      memory.closePrivate(pool);
      throw e;
    }
  }

  /** Runs the recorded work again on the stream it was captured on. */
  public void replay() {
    if (closed) {
      throw new IllegalStateException("graph is closed");
    }
    if (cpuWork != null) {
      cpuWork.run();
    } else {
      Cuda.check(cudaGraphLaunch(exec, stream.cudaStream()), "cudaGraphLaunch");
    }
  }

  public Stream stream() {
    return stream;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (exec != null) {
      if (!stream.isClosed()) {
        stream.synchronize(); // a replay may still run; a closed stream waited for its work when it closed
      }
      cudaGraphExecDestroy(exec);
      cudaGraphDestroy(graph);
      MemoryPool.of(stream.device()).closePrivate(pool);
    }
  }
}
