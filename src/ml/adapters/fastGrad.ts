// Faster backward passes on the wasm backend (issue 7 item 2). tfjs-wasm runs only 2-D,
// non-transposed matMul fast (~29 GFLOP/s); stock autodiff of y = x @ w produces
// dx = dy @ w^T (transposeB) and dw = x^T @ dy (transposeA), both ~15x slower. Here:
//  - frozen dense layers get a custom gradient dx = dy @ wT with wT transposed once and cached;
//  - the LoRA branch gets hand-written gradients whose matMuls are all 2-D and non-transposed
//    (the operands are transposed explicitly; they are small: r is 2-16).
import * as tf from '@tensorflow/tfjs-core';
import { applyDense } from '../models/dense';
import type { Dense } from '../models/encoder';

// Not re-exported by tfjs-core's index; the signature tf.customGrad expects.
type CustomGradientFunc<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

/** Pre-transposed copies of frozen weights, made on first use; dispose() frees them. */
export class TransposeCache {
  private readonly cache = new Map<tf.Tensor, tf.Tensor2D>();

  get(w: tf.Tensor2D): tf.Tensor2D {
    let t = this.cache.get(w);
    if (!t || t.isDisposed) {
      t = tf.keep(tf.tidy(() => tf.transpose(w)));
      this.cache.set(w, t);
    }
    return t;
  }

  get size(): number {
    return this.cache.size;
  }

  dispose(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
  }
}

/** y = x @ w + b with w, b frozen: the gradient flows to x only, as dy @ wT. */
export function frozenDense(x: tf.Tensor2D, d: Dense, cache: TransposeCache): tf.Tensor2D {
  const wT = cache.get(d.w);
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return { value: applyDense(input as tf.Tensor2D, d), gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, wT)] };
  }) as CustomGradientFunc<tf.Tensor>);
  return f(x) as tf.Tensor2D;
}

/** s * (x @ aT) @ bT with gradients for x, aT and bT from 2-D non-transposed matMuls only. */
export function loraBranch(x: tf.Tensor2D, aT: tf.Tensor2D, bT: tf.Tensor2D, s: number): tf.Tensor2D {
  const f = tf.customGrad(((xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const h = tf.matMul(xi as tf.Tensor2D, a as tf.Tensor2D); // [rows, r]
    save([xi, a, b, h]);
    return {
      value: tf.mul(tf.matMul(h, b as tf.Tensor2D), s),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, as, bs, hs] = saved as tf.Tensor2D[];
        const dys = tf.mul(dy, s) as tf.Tensor2D; // [rows, out]
        const dh = tf.matMul(dys, tf.transpose(bs)); // [rows, out] @ [out, r]
        const dB = tf.matMul(tf.transpose(hs), dys); // [r, rows] @ [rows, out]
        const dA = tf.matMul(tf.transpose(xs), dh); // [in, rows] @ [rows, r]
        const dx = tf.matMul(dh, tf.transpose(as)); // [rows, r] @ [r, in]
        return [dx, dA, dB];
      },
    };
  }) as CustomGradientFunc<tf.Tensor>);
  return f(x, aT, bT) as tf.Tensor2D;
}
