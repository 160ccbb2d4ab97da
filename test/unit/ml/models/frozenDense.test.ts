// frozenDense + prepareForTraining: same forward and same LoRA gradients as the stock path, on
// wasm, with explicit (not hidden) extra tensors that are released again.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend/selectBackend';
import { applyDense } from '../../../../src/ml/models/dense';
import type { ProjectionHook } from '../../../../src/ml/models/encoder';
import { frozenDense, hasTransposed } from '../../../../src/ml/models/frozenDense';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';

beforeAll(async () => {
  await selectBackend();
});

function relDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}

describe('frozenDense and prepareForTraining', () => {
  it('give the same embeddings and LoRA gradients as the stock path; buffers are explicit and released', () => {
    const enc = createRandomEncoder(
      { family: 'timm-vit', imageSize: 32, patchSize: 8, width: 64, depth: 2, heads: 2, layerScale: true },
      4,
    );
    const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 1) as tf.Tensor4D;
    const A = tf.randomNormal([64, 2], 0, 0.2, 'float32', 2) as tf.Tensor2D;
    const B = tf.randomNormal([2, 64], 0, 0.2, 'float32', 3) as tf.Tensor2D;
    const lossAndGrads = (dense: typeof applyDense) =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) => {
          const hook: ProjectionHook = (_b, name, h, base) =>
            name === 'q' || name === 'v'
              ? (tf.add(dense(h, base), tf.matMul(tf.matMul(h, a as tf.Tensor2D), b as tf.Tensor2D)) as tf.Tensor2D)
              : dense(h, base);
          return tf.sum(tf.square(enc.embed(x, hook, true))) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)([A, B]);
        return [value, ...grads];
      });
    const stock = lossAndGrads(applyDense);
    const base = tf.memory().numTensors;
    enc.prepareForTraining();
    expect(tf.memory().numTensors).toBe(base + 2 * 6); // q,k,v,o,fc1,fc2 per block
    expect(hasTransposed(enc.baseProjection(0, 'q'))).toBe(true);
    const fast = lossAndGrads(frozenDense);
    for (let i = 0; i < 3; i++) expect(relDiff(fast[i].dataSync(), stock[i].dataSync())).toBeLessThan(1e-5);
    tf.dispose(fast);
    enc.releaseTrainingBuffers();
    expect(tf.memory().numTensors).toBe(base);
    expect(hasTransposed(enc.baseProjection(0, 'q'))).toBe(false);
    tf.dispose([...stock, x, A, B]);
    enc.dispose();
  });
});
