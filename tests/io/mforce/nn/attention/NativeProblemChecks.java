package io.mforce.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.bindings.AttentionNative;
import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.NativeCalls;
import io.mforce.runtime.Stream;
import java.util.function.Consumer;

/**
 * The native entry points check a raw mf_attn_problem again for callers that bypass Java: broken
 * copies of a valid problem on a device are rejected with an IllegalArgumentException naming the
 * field, and write nothing.
 */
final class NativeProblemChecks implements AutoCloseable {
  private final Device device;
  private final AttentionLaunch launch;

  NativeProblemChecks(Device device) {
    this.device = device;
    AttentionProblem p = new AttentionProblem(JointAttention.Config.causal(4, 2, 16), DType.F32, 2, 51, 1.0)
        .query(0, 0, 1, 1).keys(true, 0, 0, 1, 1, AttentionProblem.EMPTY);
    launch = new AttentionLaunch(p, device, AttentionLaunch.Layout.DENSE);
  }

  void assertBrokenProblemsRejected() {
    forward("num_queries = 0", p -> p.num_queries(0));
    forward("num_keys = 5", p -> p.num_keys(5));
    forward("head_dim = 12", p -> p.head_dim(12));
    forward("head_dim = 264", p -> p.head_dim(264));
    forward("heads = 4 is not a multiple of kv_heads = 3", p -> p.kv_heads(3));
    forward("dtype 2", p -> p.dtype(2));
    forward("queries[0]: q, o, lse and chunk must not be null", p -> p.queries(0).lse(0));
    forward("keys[0]: k, v and chunk must not be null", p -> p.keys(0).k(0));
    forward("keys[0] has a negative len", p -> p.keys(0).len(-1));
    String relation = "; expected MF_ATTN_CAUSAL=0, MF_ATTN_PAST=1 or MF_ATTN_SAME=2";
    forward("keys[0].relation = 3" + relation, p -> p.keys(0).relation(3));
    forward("keys[0].relation = -1" + relation, p -> p.keys(0).relation(-1));
    backward("keys[0].relation = 7" + relation, p -> p.keys(0).relation(7));
    backward("keys[0]: dk and dv must both be set", p -> p.keys(0).dv(0));
    backward("queries[0]: d_o and dq must not be null", p -> p.queries(0).d_o(0));
    forward("queries[0]: strides (batch 256, token 32) make its tokens of 64 elements overlap",
        p -> p.queries(0).token_stride(32));
    forward("queries[0]: strides (batch 64, token 64) make its tokens of 64 elements overlap",
        p -> p.queries(0).batch_stride(64));
    // one batch entry: its 4 tokens all on the same 64 elements (this once passed as "batch-major")
    forward("queries[0]: strides (batch 256, token 0) make its tokens of 64 elements overlap",
        p -> p.batch(1).queries(0).token_stride(0));
    backward("keys[0]: strides (batch 160, token 0) make its dk, dv tokens of 32 elements overlap",
        p -> p.batch(1).keys(0).token_stride(0));
    backward("keys[0]: strides (batch 160, token 16) make its dk, dv tokens of 32 elements overlap",
        p -> p.keys(0).token_stride(16));
    for (int i = 0; i < 5; i++) {
      double[] written = switch (i) {
        case 0 -> launch.out(0);
        case 1 -> launch.lse(0);
        case 2 -> launch.gradQ(0);
        case 3 -> launch.gradK(0);
        default -> launch.gradV(0);
      };
      for (double v : written) {
        assertTrue(Double.isNaN(v), "a rejected call wrote an output");
      }
    }
    try (AttentionNative.Problem p = problem()) {
      assertEquals(0, call(p, false), "the unbroken problem is valid");
      p.keys(0).relation(AttentionNative.MF_ATTN_SAME);
      assertEquals(0, call(p, true), "so is relation SAME");
    }
  }

  @Override
  public void close() {
    launch.close();
  }

  private void forward(String fragment, Consumer<AttentionNative.Problem> breakIt) {
    expect(fragment, breakIt, false);
  }

  private void backward(String fragment, Consumer<AttentionNative.Problem> breakIt) {
    expect(fragment, breakIt, true);
  }

  private void expect(String fragment, Consumer<AttentionNative.Problem> breakIt, boolean backward) {
    try (AttentionNative.Problem p = problem()) {
      breakIt.accept(p);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> NativeCalls.check(call(p, backward), "native"), fragment);
      assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
  }

  private int call(AttentionNative.Problem p, boolean backward) {
    int dev = device.kind().code();
    long stream = Stream.current(device).handle();
    int status = backward ? AttentionNative.mf_attention_backward(dev, stream, p)
        : AttentionNative.mf_attention_forward(dev, stream, p);
    Stream.current(device).synchronize();
    return status;
  }

  /** The launch's problem as a raw struct: its inputs and its (NaN) outputs. */
  private AttentionNative.Problem problem() {
    QueryRun q = launch.queries().get(0);
    KeyRun k = launch.keys().get(0);
    AttentionNative.Problem p = new AttentionNative.Problem();
    p.dtype(0).batch(2).heads(4).kv_heads(2).head_dim(16).scale(0.25f).masked(1).num_queries(1).num_keys(1);
    p.queries(0).q(q.q().address()).o(q.out().address()).lse(q.lse().address()).chunk(q.chunks().address())
        .len(4).batch_stride(4 * 64).token_stride(64).d_o(q.gradOut().address()).dq(q.gradQ().address());
    p.keys(0).k(k.k().address()).v(k.v().address()).chunk(k.chunks().address()).len(5).batch_stride(5 * 32)
        .token_stride(32).dk(k.gradK().address()).dv(k.gradV().address());
    return p;
  }
}
