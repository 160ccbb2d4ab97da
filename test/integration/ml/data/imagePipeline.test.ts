import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../../src/slides/decodeImage';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { simplePipeline } from '../../../../src/ml/data/imagePipeline';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';

const mean: [number, number, number] = [0.5, 0.5, 0.5];
const std: [number, number, number] = [0.5, 0.5, 0.5];

beforeAll(() => useBackend('cpu'));

describe('bilinear fallback pipeline (simplePipeline)', () => {
  it('eval transform of a same-size image is the exact normalised pixels, CHW', () => {
    const img = { width: 2, height: 2, data: new Uint8Array([0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]) };
    const out = simplePipeline({ size: 2, mean, std }).prepare(img, null);
    // R plane, G plane, B plane; (v/255 - 0.5) / 0.5.
    expect([...out]).toEqual([-1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1, 1]);
  });

  it('augmentation is seeded: same seed same crop, other seeds differ, flips happen', async () => {
    const [item] = await herlevSubset(['normal_columnar'], 1);
    const img = await decodeImage(item.path);
    const p = simplePipeline({ size: 32, mean, std });
    expect([...p.prepare(img, 42)]).toEqual([...p.prepare(img, 42)]);
    const outs = Array.from({ length: 8 }, (_, s) => p.prepare(img, s));
    expect(new Set(outs.map((o) => o.slice(0, 64).join(','))).size).toBe(8);
    const ev = p.prepare(img, null);
    outs.forEach((o) => {
      expect(o.every((v) => v >= -1.0001 && v <= 1.0001)).toBe(true);
      expect([...o]).not.toEqual([...ev]);
    });
    // With the crop pinned to the whole image (scale 1-1 on a square image), an augmented
    // sample is either the eval image or its exact mirror, and both occur.
    const whole = simplePipeline({ size: 40, mean, std, scale: [1, 1] });
    const plain = whole.prepare(img, null);
    const mirror = new Float32Array(plain.length);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) mirror[c * 1600 + y * 40 + x] = plain[c * 1600 + y * 40 + 39 - x];
    const kinds = Array.from({ length: 12 }, (_, s) => {
      const o = whole.prepare(img, 100 + s).join(',');
      return o === plain.join(',') ? 'plain' : o === mirror.join(',') ? 'mirror' : 'other';
    });
    expect(kinds).toContain('plain');
    expect(kinds).toContain('mirror');
    expect(kinds).not.toContain('other');
  });

  it('batches decoded images into [N, 3, S, S] tensors', async () => {
    const items = await herlevSubset(['normal_columnar', 'carcinoma_in_situ'], 2);
    const b = new ImageBatcher(simplePipeline({ size: 16, mean, std }));
    const before = tf.memory().numTensors;
    const x = await b.load(items.map((i) => i.path), null);
    expect(x.shape).toEqual([4, 3, 16, 16]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('family pipeline (src/ml/data behind the same interface)', () => {
  it('eval equals preprocessEval; augmentation is seeded and varies with the seed', async () => {
    const { familyPipeline, pipelineFromOptions } = await import('../../../../src/ml/data/imagePipeline');
    const { preprocessEval } = await import('../../../../src/ml/data/transforms');
    const [item] = await herlevSubset(['light_dysplastic'], 1);
    const img = await decodeImage(item.path);
    const p = familyPipeline({ size: 32, mean, std });
    expect([...p.prepare(img, null)]).toEqual([...preprocessEval(img, { imageSize: 32, mean, std })]);
    expect([...p.prepare(img, 5)]).toEqual([...p.prepare(img, 5)]);
    expect([...p.prepare(img, 5)]).not.toEqual([...p.prepare(img, 6)]);
    expect(pipelineFromOptions({ kind: 'bicubic', size: 32, mean, std }).describe().kind).toBe('bicubic');
    expect(pipelineFromOptions({ size: 32, mean, std }).describe().kind).toBe('bilinear');
  });
});
