// The contract between the encoder families (checkpoint -> vision transformer) and the
// adaptation code (LoRA, heads, training). Families implement `Encoder`; LoRA plugs in
// through `ProjectionHook`, so no family knows about LoRA and LoRA knows no family.
import type * as tf from '@tensorflow/tfjs-core';
import type { ProjectionName } from '../../shared/training';
import type { FamilyName } from './registry';

export type { FamilyName };

/** Where the attention head count came from (embed and doctor print it). */
export type HeadsSource = 'option' | 'config.json' | 'open_clip_config.json' | 'width/64 guess';

/** A frozen dense layer y = x @ w + b, with w stored as [in, out] (already transposed from PyTorch's [out, in]). */
export interface Dense {
  w: tf.Tensor2D;
  b: tf.Tensor1D | null;
}

/**
 * Called for each attention projection of each block, with the block's tokens flattened to
 * x: [N * tokens, width]. Returns [N * tokens, out]. The default is `applyDense(x, base)`;
 * LoRA returns `applyDense(x, base) + s * (dropout(x) @ A^T) @ B^T`.
 */
export type ProjectionHook = (block: number, name: ProjectionName, x: tf.Tensor2D, base: Dense) => tf.Tensor2D;

export interface EncoderConfig {
  family: FamilyName;
  imageSize: number;
  patchSize: number;
  width: number;
  depth: number;
  heads: number;
  /** Why `heads` has its value: checkpoints do not record it (see headCount.ts). */
  headsSource: HeadsSource;
  mlpDim: number;
  /** Size of the embedding `embed` returns (projection dim for CLIP families, width for ViTs). */
  outputDim: number;
  layerNormEps: number;
  activation: 'gelu' | 'quick_gelu';
  /** Per-channel normalisation applied by preprocessing, not by `embed`. */
  mean: [number, number, number];
  std: [number, number, number];
}

export interface Encoder {
  readonly config: EncoderConfig;
  /**
   * images: [N, 3, H, W] float32, already normalised -> embeddings [N, outputDim].
   * `hook` replaces the attention projections (LoRA); `training` enables dropout in hooks.
   * Pure with respect to tensors: everything intermediate is disposed (call inside tf.tidy or
   * it tidies itself); only the result is returned.
   */
  embed(images: tf.Tensor4D, hook?: ProjectionHook, training?: boolean): tf.Tensor2D;
  /** Number of frozen parameters (for the model registry). */
  parameterCount(): number;
  dispose(): void;
}
