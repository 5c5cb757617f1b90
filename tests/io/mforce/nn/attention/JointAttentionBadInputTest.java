package io.mforce.nn.attention;

import static io.mforce.nn.attention.Rope3DTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mforce.runtime.DType;
import io.mforce.runtime.Device;
import io.mforce.runtime.Tensor;
import io.mforce.testing.Gpu;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Bad input to the attention: a clear IllegalArgumentException naming the argument, nothing written. */
class JointAttentionBadInputTest {
  private final List<Tensor> owned = new ArrayList<>();
  private AttentionProblem problem;
  private AttentionLaunch launch;
  private JointAttention attention;

  @BeforeEach
  void setUp() {
    problem = new AttentionProblem(JointAttention.Config.causal(4, 2, 16), DType.F32, 2, 51, 1.0)
        .query(0, 0, 1, 1).keys(true, 0, 0, 1, 1, AttentionProblem.EMPTY);
    launch = new AttentionLaunch(problem, Device.CPU, AttentionLaunch.Layout.DENSE);
    attention = new JointAttention(problem.config);
  }

  @AfterEach
  void tearDown() {
    attention.close();
    launch.close();
    owned.forEach(Tensor::close);
  }

  private Tensor keep(Tensor t) {
    owned.add(t);
    return t;
  }

  private QueryRun query() {
    return launch.queries().get(0);
  }

  private KeyRun key() {
    return launch.keys().get(0);
  }

  /** Forward and backward with the query run changed by {@code q} and the key run by {@code k}. */
  private void both(String fragment, QueryRun q, KeyRun k) {
    assertMessage(() -> attention.forward(List.of(q), List.of(k)), fragment);
    assertMessage(() -> attention.backward(List.of(q), List.of(k)), fragment);
  }

  private void assertNothingWritten() {
    for (double v : launch.out(0)) {
      assertTrue(Double.isNaN(v), "a rejected call wrote out");
    }
    for (double v : launch.lse(0)) {
      assertTrue(Double.isNaN(v), "a rejected call wrote lse");
    }
    for (double v : launch.gradQ(0)) {
      assertTrue(Double.isNaN(v), "a rejected call wrote gradQ");
    }
    for (double v : launch.gradK(0)) {
      assertTrue(Double.isNaN(v), "a rejected call wrote gradK");
    }
  }

  @Test
  void shapesDtypesAndStrides() {
    QueryRun q = query();
    KeyRun k = key();
    Tensor wrongHeads = keep(Tensor.zeros(DType.F32, Device.CPU, 2, 4, 3, 16));
    Tensor outParent = keep(Tensor.zeros(DType.F32, Device.CPU, 2, 6, 4, 16));
    Tensor stridedOut = keep(outParent.narrow(1, 1, 4));
    Tensor lseWrong = keep(Tensor.zeros(DType.F32, Device.CPU, 2, 4, 5));
    Tensor lseBf16 = keep(Tensor.zeros(DType.BF16, Device.CPU, 2, 4, 4));
    Tensor kBf16 = keep(Tensor.zeros(DType.BF16, Device.CPU, 2, 5, 2, 16));
    Tensor kBatch = keep(Tensor.zeros(DType.F32, Device.CPU, 3, 5, 2, 16));
    Tensor vShort = keep(Tensor.zeros(DType.F32, Device.CPU, 2, 4, 2, 16));
    both("'queries[0].q' has shape [2, 4, 3, 16]; expected [batch, len, 4, 16]",
        new QueryRun(wrongHeads, q.chunks(), q.out(), q.lse(), q.gradOut(), q.gradQ()), k);
    both("'queries[0].out' has batch/token strides 384/64; expected 256/64",
        new QueryRun(q.q(), q.chunks(), stridedOut, q.lse(), q.gradOut(), q.gradQ()), k);
    both("'queries[0].lse' has shape [2, 4, 5]; expected [2, 4, 4]",
        new QueryRun(q.q(), q.chunks(), q.out(), lseWrong, q.gradOut(), q.gradQ()), k);
    both("'queries[0].lse' is BF16; expected F32",
        new QueryRun(q.q(), q.chunks(), q.out(), lseBf16, q.gradOut(), q.gradQ()), k);
    both("'keys[0].k' is BF16; expected F32", q, new KeyRun(kBf16, kBf16, k.chunks(), k.gradK(), k.gradV()));
    both("'keys[0].k' has batch 3; expected 2", q, new KeyRun(kBatch, kBatch, k.chunks(), null, null));
    both("'keys[0].v' has shape [2, 4, 2, 16]; expected [2, 5, 2, 16]", q,
        new KeyRun(k.k(), vShort, k.chunks(), null, null));
    assertMessage(() -> attention.backward(List.of(q), List.of(new KeyRun(k.k(), k.v(), k.chunks(), k.gradK(), null))),
        "only one of gradK and gradV");
    assertMessage(() -> attention.backward(List.of(QueryRun.of(q.q(), q.chunks(), q.out(), q.lse())), List.of(k)),
        "'queries[0].gradOut' is null");
    assertNothingWritten();
  }

  @Test
  void chunkIndices() {
    QueryRun q = query();
    KeyRun k = key();
    Tensor shortChunks = keep(Tensor.of(new int[] {0, 0, 1}, 3));
    Tensor floatChunks = keep(Tensor.of(new float[] {0, 0, 1, 1}, 4));
    Tensor negative = keep(Tensor.of(new int[] {0, -1, 1, 1}, 4));
    Tensor emptyQuery = keep(Tensor.of(new int[] {0, 0, JointAttention.EMPTY, 1}, 4));
    Tensor negativeKey = keep(Tensor.of(new int[] {0, 0, 1, 1, -3}, 5));
    both("'queries[0].chunks' has shape [3]; expected [4]",
        new QueryRun(q.q(), shortChunks, q.out(), q.lse(), q.gradOut(), q.gradQ()), k);
    both("'queries[0].chunks' is F32; expected I32",
        new QueryRun(q.q(), floatChunks, q.out(), q.lse(), q.gradOut(), q.gradQ()), k);
    both("'queries[0].chunks'[1] = -1; expected a chunk index >= 0",
        new QueryRun(q.q(), negative, q.out(), q.lse(), q.gradOut(), q.gradQ()), k);
    both("'queries[0].chunks'[2] = 2147483647",
        new QueryRun(q.q(), emptyQuery, q.out(), q.lse(), q.gradOut(), q.gradQ()), k);
    both("'keys[0].chunks'[4] = -3", q, new KeyRun(k.k(), k.v(), negativeKey, k.gradK(), k.gradV()));
    assertNothingWritten();
  }

  @Test
  void outputsMustNotOverlapOtherTensors() {
    QueryRun q = query();
    KeyRun k = key();
    // forward writes out: out aliasing q (same shape) must be refused, naming both
    assertMessage(() -> attention.forward(List.of(new QueryRun(q.q(), q.chunks(), q.q(), q.lse(), q.gradOut(),
        q.gradQ())), List.of(k)), "'queries[0].q' and 'queries[0].out' overlap");
    // backward writes gradK: gradK aliasing v must be refused
    assertMessage(() -> attention.backward(List.of(q), List.of(new KeyRun(k.k(), k.v(), k.chunks(), k.v(),
        k.gradV()))), "overlap");
    assertNothingWritten();
  }

  @Test
  void runCountsAndLifecycle() {
    QueryRun q = query();
    KeyRun k = key();
    assertMessage(() -> attention.forward(List.of(), List.of(k)), "0 queries runs; expected 1..4");
    assertMessage(() -> attention.forward(List.of(q, q, q, q, q), List.of(k)), "5 queries runs; expected 1..4");
    assertMessage(() -> attention.forward(List.of(q), List.of(k, k, k, k, k)), "5 keys runs; expected 1..4");
    Tensor closed = keep(Tensor.zeros(DType.F32, Device.CPU, 2, 5, 2, 16));
    closed.close();
    assertThrows(IllegalStateException.class,
        () -> attention.forward(List.of(q), List.of(new KeyRun(closed, k.v(), k.chunks(), null, null))));
    assertNothingWritten();
    attention.close();
    assertThrows(IllegalStateException.class, () -> attention.forward(List.of(q), List.of(k)));
  }

  @Test
  void config() {
    assertMessage(() -> new JointAttention.Config(6, 4, 64, 0.125f, true, 0, 0), "kvHeads >= 1 dividing heads");
    assertMessage(() -> JointAttention.Config.causal(2, 2, 12), "headDim = 12");
    assertMessage(() -> JointAttention.Config.causal(2, 2, 264), "headDim = 264");
    assertMessage(() -> JointAttention.Config.causal(2, 2, 64).withWindow(-1, 0), "window = -1");
    assertMessage(() -> JointAttention.Config.cross(2, 2, 64).withWindow(2, 1), "need masked = true");
    assertMessage(() -> JointAttention.Config.cross(2, 2, 64).withWindow(0, 1),
        "window = 0, sinks = 1 need masked = true");
    assertMessage(() -> new JointAttention.Config(2, 2, 64, Float.NaN, true, 0, 0), "'scale' = NaN");
  }

  @Test
  void nullRelation() {
    both("argument 'keys[0].relation' is null", query(), key().withRelation(null));
    assertNothingWritten();
  }

  /** The native entry points check the problem again for callers that bypass Java. */
  @Test
  void nativeEntryPointsRejectBadProblems() {
    assertNativeChecks(Device.CPU);
  }

  /** The same of the CUDA library's entry points (here, where the host emulator runs the gpu tests too). */
  @Test
  @Tag("gpu")
  void cudaEntryPointsRejectBadProblems() {
    Gpu.require();
    assertNativeChecks(Device.cuda(0));
  }

  private static void assertNativeChecks(Device device) {
    try (NativeProblemChecks checks = new NativeProblemChecks(device)) {
      checks.assertBrokenProblemsRejected();
    }
  }
}
