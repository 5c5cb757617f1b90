package io.mforce.nn;

/** Elementwise activations of the bias + activation kernels (mforce/layers.h mf_activation). */
public enum Activation {
  NONE(0),
  /** 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))): the FFN activation (DESIGN §3). */
  GELU_TANH(1),
  /** x·sigmoid(x): the time-embedding MLPs and the AdaLN projection input (Wan). */
  SILU(2);

  private final int code;

  Activation(int code) {
    this.code = code;
  }

  /** The mf_activation value of the C ABI. */
  public int code() {
    return code;
  }
}
