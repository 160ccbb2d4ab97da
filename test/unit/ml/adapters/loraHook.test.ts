import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDense } from '../../../../src/ml/models/dense';
import { BranchDropout } from '../../../../src/ml/adapters/branchDropout';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loraHook } from '../../../../src/ml/adapters/loraHook';
import { MergedLora } from '../../../../src/ml/adapters/merge';
import { hashSeed, Rng } from '../../../../src/ml/random';
import { useBackend } from '../../../support/tfBackend';
import { createToyEncoder, type ToyEncoder } from '../../../support/toyEncoder';

let enc: ToyEncoder;
let images: tf.Tensor4D;

beforeAll(async () => {
  await useBackend('cpu');
  enc = createToyEncoder({ imageSize: 8, patchSize: 4, width: 16, depth: 2, heads: 2, outputDim: 12 });
  images = tf.tensor4d(new Rng(7).uniformArray(3 * 3 * 8 * 8, -2, 2), [3, 3, 8, 8]);
});
afterAll(() => {
  enc.dispose();
  images.dispose();
});

/** Fills every B with random values so the adapter really changes the model. */
function randomizeB(adapter: LoraAdapter, seed: number): void {
  for (const l of adapter.layers.values()) {
    const rng = new Rng(hashSeed(seed, l.block, l.name));
    tf.tidy(() => l.bT.assign(tf.tensor2d(rng.uniformArray(l.bT.size, -0.5, 0.5), l.bT.shape)));
  }
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('LoRA hook', () => {
  it('initialises A as U(+-1/sqrt(in)) and B as zeros, with s = alpha/sqrt(r)', () => {
    const spec = resolveLoraSpec({ rank: 4, alpha: 2, targets: ['q', 'k', 'v', 'o'] }, enc.config);
    const adapter = LoraAdapter.create(enc.config, spec, 3);
    expect(spec.scale).toBeCloseTo(1, 12);
    const a = adapter.get(0, 'q')!.aT.dataSync();
    const bound = 1 / Math.sqrt(16);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    expect([...adapter.get(1, 'o')!.bT.dataSync()].every((v) => v === 0)).toBe(true);
    adapter.dispose();
  });

  it('with B = 0 the adapted model equals the base model, also with dropout on', () => {
    const before = tf.memory().numTensors;
    const spec = resolveLoraSpec({ rank: 2, targets: ['q', 'k', 'v', 'o'] }, enc.config);
    const adapter = LoraAdapter.create(enc.config, spec, 1);
    const dropout = new BranchDropout(0.25, 5);
    dropout.setBatch(0, [0, 1, 2]);
    const base = enc.embed(images);
    const adapted = enc.embed(images, loraHook(adapter, dropout), true);
    expect(maxAbsDiff(base, adapted)).toBe(0);
    tf.dispose([base, adapted]);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with B != 0 the output changes, and merged weights give the unmerged output to 1e-5', () => {
    const before = tf.memory().numTensors;
    const spec = resolveLoraSpec({ rank: 2, targets: ['q', 'v', 'o'], blocks: [1] }, enc.config);
    const adapter = LoraAdapter.create(enc.config, spec, 1);
    randomizeB(adapter, 9);
    const base = enc.embed(images);
    const unmerged = enc.embed(images, loraHook(adapter));
    const merged = new MergedLora(adapter);
    const out1 = enc.embed(images, merged.hook);
    const out2 = enc.embed(images, merged.hook); // second call uses the cached merged weights
    expect(maxAbsDiff(base, unmerged)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(unmerged, out1)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out1, out2)).toBe(0);
    tf.dispose([base, unmerged, out1, out2]);
    merged.dispose();
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('adapts only the chosen blocks and projections', () => {
    const spec = resolveLoraSpec({ rank: 2, targets: ['k'], blocks: [1] }, enc.config);
    const adapter = LoraAdapter.create(enc.config, spec, 1);
    randomizeB(adapter, 4);
    expect([...adapter.layers.keys()]).toEqual(['1.k']);
    const changed: string[] = [];
    const hook = loraHook(adapter);
    tf.tidy(() => {
      enc.embed(images, (b, n, x, base) => {
        const out = hook(b, n, x, base);
        expect(out.shape).toEqual([3 * 5, 16]);
        if (maxAbsDiff(out, applyDense(x, base)) > 1e-6) changed.push(`${b}.${n}`);
        return out;
      });
    });
    expect(changed).toEqual(['1.k']);
    adapter.dispose();
  });

  it('dropout masks are seeded per image: the same for a micro-batch as for the full batch', () => {
    const d = new BranchDropout(0.25, 11);
    d.setBatch(4, [0, 1, 2]);
    const full = d.mask(0, 'q', 3 * 5, 8);
    d.setBatch(4, [1, 2]);
    const part = d.mask(0, 'q', 2 * 5, 8);
    const fullData = full.dataSync();
    expect([...part.dataSync()]).toEqual([...fullData.slice(5 * 8)]);
    const zeros = fullData.filter((v) => v === 0).length / fullData.length;
    expect(zeros).toBeGreaterThan(0.1);
    expect(zeros).toBeLessThan(0.45);
    expect(fullData.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-7)).toBe(true);
    d.setBatch(5, [0, 1, 2]);
    const nextStep = d.mask(0, 'q', 15, 8);
    expect([...nextStep.dataSync()]).not.toEqual([...fullData]);
    tf.dispose([full, part, nextStep]);
  });

  it('counts trainable parameters as in the paper (ViT-B, r=2 on q,v: 73,728; ViT-L r=16 q,k,v,o: 3,145,728)', () => {
    const vitB = LoraAdapter.create({ width: 768 }, resolveLoraSpec({ rank: 2, targets: ['q', 'v'] }, { depth: 12 }), 1);
    expect(vitB.parameterCount()).toBe(73_728);
    vitB.dispose();
    const vitL = LoraAdapter.create({ width: 1024 }, resolveLoraSpec({ rank: 16, targets: ['q', 'k', 'v', 'o'] }, { depth: 24 }), 1);
    expect(vitL.parameterCount()).toBe(3_145_728);
    vitL.dispose();
  });

  it('rejects invalid LoRA settings with a kind', () => {
    expect(() => resolveLoraSpec({ rank: 0 }, enc.config)).toThrow(/rank/);
    expect(() => resolveLoraSpec({ blocks: [5] }, enc.config)).toThrow(/block 5 does not exist/);
    expect(() => resolveLoraSpec({ targets: ['x' as 'q'] }, enc.config)).toThrow(/unknown target/);
    try {
      resolveLoraSpec({ dropout: 1 }, enc.config);
    } catch (err) {
      expect((err as { kind: string }).kind).toBe('invalid-lora-config');
    }
  });
});
