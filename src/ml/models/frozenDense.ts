// A frozen dense layer whose backward is fast on wasm. tfjs-wasm runs only 2-D, non-transposed
// matMul on its XNNPACK fast path (~29 GFLOP/s); the stock gradient of x @ w is dy @ w^T, a
// transposed matMul at ~2 GFLOP/s, which makes a LoRA backward ~7x its forward
// (bench/train-step.ts measures the difference). With w^T prepared once, the backward
// is a plain dy @ wT. Forward values are identical to applyDense. No gradient flows to w or b.
import * as tf from '@tensorflow/tfjs-core';
import { applyDense } from './dense';
import type { Dense } from './encoder';

/** w -> w^T [out, in], created by `prepareTransposed` and released by `releaseTransposed`. */
const transposed = new WeakMap<tf.Tensor2D, tf.Tensor2D>();

export function prepareTransposed(d: Dense): void {
  if (!transposed.has(d.w)) transposed.set(d.w, tf.keep(tf.transpose(d.w)));
}

export function releaseTransposed(d: Dense): void {
  const t = transposed.get(d.w);
  if (t) {
    t.dispose();
    transposed.delete(d.w);
  }
}

export function hasTransposed(d: Dense): boolean {
  return transposed.has(d.w);
}

/**
 * y = x @ w + b for x [rows, in] -> [rows, out], gradient only with respect to x. Uses the
 * prepared w^T when there is one, else falls back to applyDense (stock gradient).
 */
export function frozenDense(x: tf.Tensor2D, d: Dense): tf.Tensor2D {
  const wT = transposed.get(d.w);
  if (!wT) return applyDense(x, d);
  const f = tf.customGrad<tf.Tensor2D>((...args) => {
    const value = applyDense(args[0] as tf.Tensor2D, d);
    return { value, gradFunc: (dy: tf.Tensor2D) => tf.matMul(dy, wT) };
  });
  return f(x);
}
