/**
 * The dual-branch model (DESIGN §3): {@link io.mforce.model.ModelConfig} (the tiny, small and
 * paper configs and their validation), {@link io.mforce.model.ParameterCount} (the architecture
 * and its analytic size), {@link io.mforce.model.ModelLayers} (every parameter-owning layer,
 * declared under the documented names); checkpoints in {@code io.mforce.model.checkpoint}.
 */
package io.mforce.model;
