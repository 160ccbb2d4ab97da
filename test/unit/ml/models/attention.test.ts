// Attention per head with 2-D matMuls (the wasm fast path) against the batched formulation
// autodiff differentiates: same outputs and same gradients to 1e-5, on the real wasm and cpu
// kernels; the copy-free wasm Slice kernel returns exactly what the stock one returns.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGradients } from '../../../../src/ml/backend/gradients';
import { installWasmKernelFixes, wasmKernelFixesInstalled } from '../../../../src/ml/backend/wasmKernels';
import { attention, setAttentionKernel, type AttentionKernel } from '../../../../src/ml/models/layers';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import { useBackend } from '../../../support/tfBackend';

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]));
}

/** Values and d/d(q, k, v) of sum(attention * w) for one formulation. */
function run(
  kernel: AttentionKernel,
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  w: tf.Tensor2D,
  n: number,
  t: number,
  h: number,
): tf.Tensor[] {
  const y = attention(q, k, v, n, t, h, kernel);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(attention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, n, t, h, kernel), w)),
  )([q, k, v]);
  return [y, ...g];
}

beforeAll(async () => {
  await ensureGradients();
});
afterAll(() => setAttentionKernel('auto'));

describe.each(['wasm', 'cpu'] as const)('attention on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each([
    [1, 5, 2, 8],
    [3, 17, 4, 32],
  ])('per head equals batched (N=%i, T=%i, H=%i, width %i): outputs and q/k/v gradients to 1e-5, no leaks', (n, t, h, width) => {
    const [q, k, v, w] = [1, 2, 3, 4].map((s) => tf.randomNormal([n * t, width], 0, 1.5, 'float32', s) as tf.Tensor2D);
    const before = tf.memory().numTensors;
    const ref = run('batched', q, k, v, w, n, t, h);
    const per = run('perHead', q, k, v, w, n, t, h);
    expect(per.map((x) => x.shape)).toEqual(ref.map((x) => x.shape));
    per.forEach((x, i) => expect(maxRelDiff(x, ref[i])).toBeLessThan(1e-5));
    // The gradients are not trivially zero (so the comparison can fail).
    expect(tf.tidy(() => tf.max(tf.abs(per[1])).dataSync()[0])).toBeGreaterThan(1e-3);
    tf.dispose([...ref, ...per]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k, v, w]);
  });
});

describe('a whole encoder with per-head attention', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('embeds and back-propagates like the batched formulation (random ViT, LayerScale, 3 heads)', () => {
    const enc = createRandomEncoder(
      { family: 'timm-vit', imageSize: 24, patchSize: 8, width: 24, depth: 2, heads: 3, layerScale: true },
      4,
    );
    const x = tf.randomNormal([2, 3, 24, 24], 0, 1, 'float32', 9) as tf.Tensor4D;
    const both = (['batched', 'perHead'] as const).map((kernel) => {
      setAttentionKernel(kernel);
      try {
        return tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((img: tf.Tensor) => tf.sum(tf.square(enc.embed(img as tf.Tensor4D))) as tf.Scalar)([x]);
          return [enc.embed(x), value, grads[0]];
        });
      } finally {
        setAttentionKernel('auto');
      }
    });
    both[1].forEach((t, i) => expect(maxRelDiff(t, both[0][i])).toBeLessThan(1e-5));
    tf.dispose([x, ...both.flat()]);
    enc.dispose();
  });

  it('is the default on wasm, batched on cpu', async () => {
    const seen: string[] = [];
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      const { defaultAttentionKernel } = await import('../../../../src/ml/models/layers');
      seen.push(defaultAttentionKernel());
    }
    expect(seen).toEqual(['perHead', 'batched']);
  });
});

describe('copy-free wasm Slice and Identity kernels', () => {
  it('returns exactly what the cpu backend returns for contiguous and strided boxes of rank 1-5 and every dtype', async () => {
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [4]],
      [
        [6, 7],
        [2, 0],
        [3, 7],
      ], // contiguous rows
      [
        [6, 7],
        [1, 2],
        [4, 3],
      ], // strided
      [
        [4, 5, 6],
        [1, 1, 2],
        [2, 3, 3],
      ],
      [
        [3, 4, 5, 6],
        [1, 0, 2, 1],
        [2, 4, 2, 4],
      ],
      [
        [2, 3, 2, 3, 2],
        [0, 1, 0, 1, 0],
        [2, 2, 2, 2, 1],
      ], // rank 5: falls back to the stock kernel
    ];
    const make = (shape: number[], dtype: 'float32' | 'int32' | 'bool') => {
      const size = shape.reduce((a, b) => a * b, 1);
      const vals = Array.from({ length: size }, (_, i) => (dtype === 'bool' ? i % 3 === 0 : i * 1.5 - 7));
      return tf.tensor(vals as number[], shape, dtype);
    };
    const results = () =>
      cases.flatMap(([shape, begin, size]) =>
        (['float32', 'int32', 'bool'] as const).map((dtype) =>
          tf.tidy(() => Array.from(tf.slice(make(shape, dtype), begin, size).dataSync())),
        ),
      );
    await useBackend('cpu');
    const expected = results();
    await useBackend('wasm');
    installWasmKernelFixes();
    expect(wasmKernelFixesInstalled()).toBe(true);
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).not.toBe('slice'); // the fix, not the stock kernel, is registered
    const fixed = results();
    expect(fixed).toEqual(expected);
    expect(fixed[6]).toEqual([9, 10, 11, 16, 17, 18, 23, 24, 25, 30, 31, 32].map((i) => i * 1.5 - 7)); // [6,7] rows 1-4, cols 2-4
  });

  it('Identity (tf.clone, and every tensor saved for a backward pass) shares the data: the clone outlives its source, values intact', async () => {
    await useBackend('wasm');
    installWasmKernelFixes();
    const before = tf.memory();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers - before.numDataBuffers).toBe(1); // one buffer for both
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const v = tf.variable(y);
    const doubled = tf.mul(v, 2);
    v.assign(doubled as tf.Tensor2D);
    doubled.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]); // assign does not write through
    expect(Array.from(v.dataSync())).toEqual([2, 4, 6, 8, 10, 12]);
    tf.dispose([y, v]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });
});
