// Merging for inference: W' = W + s (B A)^T, i.e. w' = w + s * aT @ bT in our [in, out] layout,
// so classification runs plain dense layers (one matMul per projection, like the base model).
import * as tf from '@tensorflow/tfjs-core';
import { applyDense } from '../models/dense';
import type { Dense, ProjectionHook } from '../models/encoder';
import type { LoraAdapter, LoraLayer } from './loraAdapter';
import { layerKey } from './loraConfig';

export function mergeDense(base: Dense, layer: LoraLayer, scale: number): Dense {
  const w = tf.tidy(() => tf.add(base.w, tf.mul(tf.matMul(layer.aT, layer.bT), scale)) as tf.Tensor2D);
  return { w, b: base.b };
}

/**
 * A hook that applies merged weights. The encoder owns the base weights and passes them to
 * the hook, so merged copies are built on first use per projection and cached (kept outside
 * any tidy). It is a snapshot: build it after training; dispose() frees the merged copies.
 */
export class MergedLora {
  private readonly cache = new Map<string, { baseW: tf.Tensor2D; merged: Dense }>();

  constructor(private readonly adapter: LoraAdapter) {}

  readonly hook: ProjectionHook = (block, name, x, base) => {
    const layer = this.adapter.get(block, name);
    if (!layer) return applyDense(x, base);
    const key = layerKey(block, name);
    let entry = this.cache.get(key);
    if (!entry || entry.baseW !== base.w) {
      if (entry) entry.merged.w.dispose();
      const merged = mergeDense(base, layer, this.adapter.spec.scale);
      tf.keep(merged.w);
      entry = { baseW: base.w, merged };
      this.cache.set(key, entry);
    }
    return applyDense(x, entry.merged);
  };

  dispose(): void {
    for (const e of this.cache.values()) e.merged.w.dispose();
    this.cache.clear();
  }
}
