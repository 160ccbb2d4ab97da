import * as tf from '@tensorflow/tfjs-core';
import type { Dense } from './encoder';

/** y = x @ w + b for x: [rows, in], w: [in, out] -> [rows, out]. The one place frozen projections are applied. */
export function applyDense(x: tf.Tensor2D, d: Dense): tf.Tensor2D {
  const y = tf.matMul<tf.Tensor2D>(x, d.w);
  return d.b ? tf.add<tf.Tensor2D>(y, d.b) : y;
}
