import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchDropout } from '../../../../src/ml/adapters/branchDropout';
import { frozenDense, loraBranch, TransposeCache } from '../../../../src/ml/adapters/fastGrad';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loraHook } from '../../../../src/ml/adapters/loraHook';
import { applyDense } from '../../../../src/ml/models/dense';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import { microBatchGrads } from '../../../../src/ml/training/gradients';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { hashSeed, Rng } from '../../../../src/ml/random';
import { useBackend } from '../../../support/tfBackend';

let enc: VitEncoder;
beforeAll(async () => {
  await useBackend('wasm');
  enc = createRandomEncoder({ family: 'timm-vit', imageSize: 16, patchSize: 4, width: 32, depth: 2, heads: 2, layerScale: true }, 4);
});
afterAll(() => enc.dispose());

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(tf.max(tf.abs(b)).dataSync()[0], 1e-12));
}

describe('wasm-friendly LoRA gradients', () => {
  it('give the same loss and gradients as stock autodiff through a whole model (1e-5 relative)', () => {
    const before = tf.memory().numTensors;
    const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({ rank: 4, targets: ['q', 'k', 'v', 'o'] }, enc.config), 2);
    for (const l of adapter.layers.values()) {
      const rng = new Rng(hashSeed(8, l.block, l.name));
      tf.tidy(() => l.bT.assign(tf.tensor2d(rng.uniformArray(l.bT.size, -0.3, 0.3), l.bT.shape)));
    }
    const head = LinearHead.create(enc.config.outputDim, 3, 1);
    const vars = [...adapter.variables(), ...head.variables()];
    const images = tf.tensor4d(new Rng(3).uniformArray(4 * 3 * 16 * 16, -2, 2), [4, 3, 16, 16]);
    const dropout = new BranchDropout(0.25, 1);
    dropout.setBatch(0, [0, 1, 2, 3]);
    const cache = new TransposeCache();
    const labels = [0, 1, 2, 1];
    const stock = microBatchGrads(vars, () => head.apply(enc.embed(images, loraHook(adapter, dropout), true)), labels, 4);
    const fast = microBatchGrads(vars, () => head.apply(enc.embed(images, loraHook(adapter, dropout, cache), true)), labels, 4);
    expect(Math.abs(fast.lossSum - stock.lossSum)).toBeLessThan(1e-5 * Math.abs(stock.lossSum));
    stock.grads.forEach((g, i) => {
      expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(0);
      expect(relErr(fast.grads[i], g)).toBeLessThan(1e-5);
    });
    expect(cache.size).toBe(8); // one transposed copy per projection (encoder not prepared)
    // Encoder-prepared transposes (MLP too, VitEncoder.prepareForTraining) give the same gradients.
    enc.prepareForTraining();
    const cache2 = new TransposeCache();
    const prepared = microBatchGrads(vars, () => head.apply(enc.embed(images, loraHook(adapter, dropout, cache2), true)), labels, 4);
    expect(cache2.size).toBe(0); // reused the encoder's copies
    stock.grads.forEach((g, i) => expect(relErr(prepared.grads[i], g)).toBeLessThan(1e-5));
    enc.releaseTrainingBuffers();
    tf.dispose([...stock.grads, ...fast.grads, ...prepared.grads, images]);
    cache.dispose();
    adapter.dispose();
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches stock autodiff on a ViT-B-sized projection (B=2: 394 x 768, r=2) and prints the speed-up (timing not asserted: shared CPU)', () => {
    const rows = 394;
    const d = 768;
    const rng = new Rng(1);
    const x = tf.tensor2d(rng.uniformArray(rows * d, -1, 1), [rows, d]);
    const base = { w: tf.tensor2d(rng.uniformArray(d * d, -0.03, 0.03), [d, d]), b: tf.tensor1d(rng.uniformArray(d, -0.1, 0.1)) };
    const aT = tf.variable(tf.tensor2d(rng.uniformArray(d * 2, -0.03, 0.03), [d, 2]));
    const bT = tf.variable(tf.tensor2d(rng.uniformArray(2 * d, -0.03, 0.03), [2, d]));
    const cache = new TransposeCache();
    const run = (fast: boolean) =>
      tf.tidy(() => {
        const f = (xi: tf.Tensor) => {
          const xx = xi as tf.Tensor2D;
          const y = fast
            ? tf.add(frozenDense(xx, base, cache), loraBranch(xx, aT, bT, 0.7))
            : tf.add(applyDense(xx, base), tf.mul(tf.matMul(tf.matMul(xx, aT), bT), 0.7));
          return tf.sum(tf.square(y)) as tf.Scalar;
        };
        // Gradient for x (what upstream blocks need) and for the LoRA factors.
        const gx = tf.grad(f)(x);
        const { grads } = tf.variableGrads(() => f(x), [aT, bT]);
        return [gx, grads[aT.name], grads[bT.name]].map((t) => t.dataSync().slice());
      });
    const fastGrads = run(true);
    const same = run(false).map((g, i) => {
      const h = fastGrads[i];
      let m = 0;
      let e = 0;
      g.forEach((v, j) => ((m = Math.max(m, Math.abs(v))), (e = Math.max(e, Math.abs(v - h[j])))));
      return e / m;
    });
    same.forEach((e) => expect(e).toBeLessThan(1e-5));
    const time = (fast: boolean) => {
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) run(fast);
      return (performance.now() - t0) / 3;
    };
    time(true);
    const stockMs = time(false);
    const fastMs = time(true);
    console.log(
      `projection fwd+bwd (x and LoRA grads), wasm: stock ${stockMs.toFixed(1)} ms, fast ${fastMs.toFixed(1)} ms, x${(stockMs / fastMs).toFixed(2)}`,
    );
    tf.dispose([x, base.w, base.b, aT, bT]);
    cache.dispose();
  });
});
