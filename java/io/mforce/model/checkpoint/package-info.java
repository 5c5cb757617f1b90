/**
 * Checkpoints as safetensors files: {@link io.mforce.model.checkpoint.SafeTensors} (the format,
 * checksummed and written atomically) and {@link io.mforce.model.checkpoint.Checkpoint} (weights,
 * EMA, AdamW state and the model config, verified on load). {@code tools/check_safetensors.py}
 * reads them with Python's safetensors package.
 */
package io.mforce.model.checkpoint;
