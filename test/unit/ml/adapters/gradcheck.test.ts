import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchDropout } from '../../../../src/ml/adapters/branchDropout';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loraHook } from '../../../../src/ml/adapters/loraHook';
import { AdamW } from '../../../../src/ml/training/adamw';
import { microBatchGrads } from '../../../../src/ml/training/gradients';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { hashSeed, Rng } from '../../../../src/ml/random';
import { useBackend } from '../../../support/tfBackend';
import { createToyEncoder, type ToyEncoder } from '../../../support/toyEncoder';

let enc: ToyEncoder;
let images: tf.Tensor4D;
const labels = [0, 2, 1];

beforeAll(async () => {
  await useBackend('cpu');
  enc = createToyEncoder({ imageSize: 8, patchSize: 4, width: 8, depth: 2, heads: 2, outputDim: 6, seed: 3 });
  images = tf.tensor4d(new Rng(5).uniformArray(3 * 3 * 8 * 8, -2, 2), [3, 3, 8, 8]);
});
afterAll(() => {
  enc.dispose();
  images.dispose();
});

function setup() {
  const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({ rank: 2, targets: ['q', 'k', 'v', 'o'] }, enc.config), 1);
  for (const l of adapter.layers.values()) {
    const rng = new Rng(hashSeed(2, l.block, l.name));
    tf.tidy(() => l.bT.assign(tf.tensor2d(rng.uniformArray(l.bT.size, -0.3, 0.3), l.bT.shape)));
  }
  const head = LinearHead.create(enc.config.outputDim, 3, 1);
  const dropout = new BranchDropout(0.25, 9);
  dropout.setBatch(0, [0, 1, 2]);
  const vars = [...adapter.variables(), ...head.variables()];
  const forward = () => head.apply(enc.embed(images, loraHook(adapter, dropout), true));
  return { adapter, head, vars, forward };
}

describe('LoRA gradients and optimiser step', () => {
  it('analytic gradients match central finite differences (central differences, 2e-2 relative)', () => {
    const before = tf.memory().numTensors;
    const { adapter, head, vars, forward } = setup();
    const { grads } = microBatchGrads(vars, forward, labels, 3);
    // Check a spread of entries of every variable: A^T and B^T of every layer and the head.
    const rng = new Rng(77);
    let checked = 0;
    vars.forEach((v, vi) => {
      const g = grads[vi].dataSync();
      for (let t = 0; t < 2; t++) {
        const k = rng.int(v.size);
        const orig = v.dataSync().slice();
        const h = 1e-2;
        const bump = (delta: number) => {
          const d = orig.slice();
          d[k] += delta;
          tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
        };
        bump(h);
        const up = lossNoGrad(forward, labels);
        bump(-h);
        const down = lossNoGrad(forward, labels);
        tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - g[k])).toBeLessThan(2e-2 * Math.max(Math.abs(g[k]), 1e-2));
        checked++;
      }
    });
    expect(checked).toBe(vars.length * 2);
    tf.dispose(grads);
    adapter.dispose();
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an optimiser step changes every LoRA and head tensor and leaves the frozen base byte-identical', () => {
    const before = tf.memory().numTensors;
    const frozenBefore = enc.frozenTensors().map((t) => Buffer.from((t.dataSync() as Float32Array).buffer.slice(0)));
    const { adapter, head, vars, forward } = setup();
    const trainableBefore = vars.map((v) => v.dataSync().slice());
    const opt = new AdamW(vars);
    const { grads } = microBatchGrads(vars, forward, labels, 3);
    opt.apply(grads, 1e-3);
    tf.dispose(grads);
    vars.forEach((v, i) => expect([...v.dataSync()]).not.toEqual([...trainableBefore[i]]));
    enc
      .frozenTensors()
      .forEach((t, i) => expect(Buffer.from((t.dataSync() as Float32Array).buffer.slice(0)).equals(frozenBefore[i])).toBe(true));
    opt.dispose();
    adapter.dispose();
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

function lossNoGrad(forward: () => tf.Tensor2D, y: number[]): number {
  return tf.tidy(() => {
    const logits = forward();
    const lse = tf.logSoftmax(logits);
    const oh = tf.oneHot(tf.tensor1d(y, 'int32'), logits.shape[1]);
    return -tf.sum(tf.mul(oh, lse)).dataSync()[0] / y.length;
  });
}
