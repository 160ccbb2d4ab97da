// LoRA as a ProjectionHook: h = x @ W + b + s * (dropout(x) @ A^T) @ B^T for the adapted
// projections; every other projection goes through the frozen base unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { applyDense } from '../models/dense';
import { frozenDense as encoderFrozenDense, hasTransposed } from '../models/frozenDense';
import type { ProjectionHook } from '../models/encoder';
import type { BranchDropout } from './branchDropout';
import { frozenDense, loraBranch, type TransposeCache } from './fastGrad';
import type { LoraAdapter } from './loraAdapter';

/**
 * `dropout` only while training; without it the branch sees x itself (eval).
 * `fast`: use the wasm-friendly gradients of fastGrad.ts (same values, same gradients).
 */
export function loraHook(adapter: LoraAdapter, dropout?: BranchDropout | null, fast?: TransposeCache): ProjectionHook {
  const s = adapter.spec.scale;
  return (block, name, x, base) => {
    // The encoder may already hold w^T (VitEncoder.prepareForTraining): reuse it, no second copy.
    const y = !fast ? applyDense(x, base) : hasTransposed(base) ? encoderFrozenDense(x, base) : frozenDense(x, base, fast);
    const layer = adapter.get(block, name);
    if (!layer) return y;
    let xin: tf.Tensor2D = x;
    if (dropout && dropout.rate > 0) {
      const mask = dropout.mask(block, name, x.shape[0], x.shape[1]);
      xin = tf.mul(x, mask);
      mask.dispose();
    }
    if (fast) return tf.add(y, loraBranch(xin, layer.aT, layer.bT, s));
    // [rows, in] @ [in, r] -> [rows, r] @ [r, out] -> [rows, out]
    const branch = tf.matMul(tf.matMul(xin, layer.aT), layer.bT);
    return tf.add(y, tf.mul(branch, s));
  };
}
