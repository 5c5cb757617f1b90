package io.mforce.cli;

import io.mforce.nn.ParameterStore;
import io.mforce.runtime.Device;
import picocli.CommandLine.Option;

/** The {@code --device} and {@code --precision} options of the commands that run a model. */
final class DeviceOptions {
  @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--precision", defaultValue = "fp32",
      description = "fp32, or bf16 (bf16 matrices and activations, fp32 accumulation and masters) "
          + "(default: ${DEFAULT-VALUE}).")
  String precision;

  Device device() {
    return Device.parse(device);
  }

  /** The store mode for training (fp32 masters either way) or for sampling only. */
  ParameterStore.Mode mode(boolean training) {
    return switch (precision) {
      case "fp32" -> ParameterStore.Mode.FP32_TRAINING;
      case "bf16" -> training ? ParameterStore.Mode.BF16_TRAINING : ParameterStore.Mode.BF16_INFERENCE;
      default -> throw new IllegalArgumentException("--precision '" + precision + "'; expected fp32 or bf16");
    };
  }
}
