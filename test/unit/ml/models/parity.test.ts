// The TensorFlow.js encoders against PyTorch reference forwards (tiny random models in each of the
// five checkpoint layouts, every file format), on the cpu backend (exact float32 kernels).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { fixturePath, loadNpy, manifest, maxAbsDiff } from '../../../support/encoderFixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('encoder parity with PyTorch', () => {
  const input = loadNpy(manifest.input);

  it('fixtures cover all five families and every format', () => {
    const families = new Set(manifest.fixtures.map((f) => f.family));
    expect([...families].sort()).toEqual(['hf-clip', 'hf-vit', 'open-clip-timm', 'openai-clip', 'timm-vit']);
    const exts = new Set(manifest.fixtures.map((f) => f.file.replace(/^[^.]+\./, '')));
    for (const e of ['safetensors', 'bin', 'pth', 'torchscript.pt', 'fp16.safetensors', 'bf16.safetensors', 'fp16.bin'])
      expect(exts).toContain(e);
  });

  for (const fx of manifest.fixtures) {
    it(`${fx.file} (${fx.family}) matches torch within 1e-4 and leaks no tensors`, () => {
      const enc = loadEncoder(fixturePath(fx.file), { heads: manifest.config.heads });
      try {
        expect(enc.config.family).toBe(fx.family);
        expect(enc.config.imageSize).toBe(manifest.config.imageSize);
        expect(enc.config.patchSize).toBe(manifest.config.patchSize);
        expect(enc.config.depth).toBe(manifest.config.depth);
        expect(enc.config.outputDim).toBe(fx.outputDim);
        const expected = loadNpy(fx.expected);
        const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
        const before = tf.memory().numTensors;
        const y = enc.embed(x);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(y.shape).toEqual(expected.shape);
        const diff = maxAbsDiff(y.dataSync(), expected.data);
        expect(diff).toBeLessThan(1e-4);
        y.dispose();
        x.dispose();
      } finally {
        enc.dispose();
      }
    });
  }

  it('loading and disposing an encoder leaves tf.memory().numTensors unchanged', () => {
    const before = tf.memory().numTensors;
    const enc = loadEncoder(fixturePath('timm-vit.safetensors'), { heads: 2 });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    enc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the projection hook sees q, k, v, o of every block separately (packed qkv split by rows)', () => {
    for (const file of ['openai-clip.bin', 'timm-vit.safetensors']) {
      const enc = loadEncoder(fixturePath(file), { heads: 2 });
      const seen: string[] = [];
      const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
      const y = enc.embed(x, (block, name, h, base) => {
        seen.push(`${block}${name}:${h.shape}:${base.w.shape}`);
        return tf.add(tf.matMul(h, base.w), base.b!) as tf.Tensor2D;
      });
      const w = manifest.config.width;
      const rows = 2 * (manifest.config.imageSize / manifest.config.patchSize) ** 2 + 2;
      expect(seen).toEqual([0, 1].flatMap((b) => ['q', 'k', 'v', 'o'].map((n) => `${b}${n}:${rows},${w}:${w},${w}`)));
      // A hook that changes v changes the embedding (so it is really used).
      const y2 = enc.embed(x, (block, name, h, base) =>
        name === 'v' && block === 1
          ? (tf.zerosLike(tf.matMul(h, base.w)) as tf.Tensor2D)
          : (tf.add(tf.matMul(h, base.w), base.b!) as tf.Tensor2D),
      );
      expect(maxAbsDiff(y.dataSync(), y2.dataSync())).toBeGreaterThan(1e-3);
      tf.dispose([x, y, y2]);
      enc.dispose();
    }
  });
});
