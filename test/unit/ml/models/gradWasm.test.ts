// The encoders on the wasm backend: same outputs as the cpu backend, and gradients flow through
// embed() into a LoRA-style hook (no conv/gather/einsum kernels whose gradients wasm lacks).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend/selectBackend';
import { applyDense } from '../../../../src/ml/models/dense';
import type { ProjectionHook } from '../../../../src/ml/models/encoder';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import { fixturePath, loadNpy, manifest, maxAbsDiff } from '../../../support/encoderFixtures';

beforeAll(async () => {
  expect((await selectBackend()).backend).toBe('wasm');
});

describe('encoders on wasm', () => {
  it('match PyTorch within 1e-4 on wasm too (timm LayerScale and OpenAI TorchScript)', () => {
    const input = loadNpy(manifest.input);
    for (const [file, exp] of [
      ['timm-vit.safetensors', 'timm-vit.expected.npy'],
      ['openai-clip.torchscript.pt', 'openai-clip.expected.npy'],
    ]) {
      const enc = loadEncoder(fixturePath(file), { heads: 2 });
      const y = tf.tidy(() => enc.embed(tf.tensor4d(input.data, input.shape as [number, number, number, number])));
      expect(maxAbsDiff(y.dataSync(), loadNpy(exp).data)).toBeLessThan(1e-4);
      y.dispose();
      enc.dispose();
    }
  });

  it('gradients reach LoRA factors in the hook and agree with finite differences; no leaks', () => {
    for (const family of ['openai-clip', 'timm-vit'] as const) {
      const enc = createRandomEncoder({ family, imageSize: 32, patchSize: 8, width: 32, depth: 2, heads: 2, layerScale: true }, 11);
      const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 5) as tf.Tensor4D;
      const A = tf.randomNormal([32, 2], 0, 0.3, 'float32', 6) as tf.Tensor2D; // [in, r]
      const B = tf.randomNormal([2, 32], 0, 0.3, 'float32', 7) as tf.Tensor2D; // [r, out]
      const before = tf.memory().numTensors;
      const loss = (a: tf.Tensor2D, b: tf.Tensor2D) => {
        const hook: ProjectionHook = (_blk, name, h, base) =>
          name === 'q' || name === 'v' ? tf.add(applyDense(h, base), tf.matMul(tf.matMul(h, a), b)) : applyDense(h, base);
        return tf.sum(tf.square(enc.embed(x, hook, true))) as tf.Scalar;
      };
      const [gA, gB] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor2D, b as tf.Tensor2D))([A, B]);
      expect(gA.shape).toEqual([32, 2]);
      expect(gB.dataSync().every(Number.isFinite)).toBe(true);
      expect(tf.tidy(() => tf.max(tf.abs(gB)).dataSync()[0])).toBeGreaterThan(0);
      // Central finite difference along one element of B.
      const eps = 1e-2;
      const idx = 3;
      const bump = (d: number) =>
        tf.tidy(() => loss(A, tf.add(B, tf.mul(tf.reshape(tf.oneHot([idx], 64), [2, 32]), d)) as tf.Tensor2D).dataSync()[0]);
      const fd = (bump(eps) - bump(-eps)) / (2 * eps);
      const an = gB.dataSync()[idx];
      expect(Math.abs(fd - an)).toBeLessThan(0.05 * Math.max(1, Math.abs(an)));
      tf.dispose([gA, gB]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, A, B]);
      enc.dispose();
    }
  });
});
