// The one preprocessing pipeline (Pillow-exact bicubic, torchvision's arithmetic) behind the
// ImagePipeline interface: eval, seeded augmentation, augmentation off, and the records runs keep.
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../../src/slides/decodeImage';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor } from '../../../../src/ml/data/imagePipeline';
import { preprocessEval } from '../../../../src/ml/data/transforms';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';

const mean: [number, number, number] = [0.5, 0.5, 0.5];
const std: [number, number, number] = [0.5, 0.5, 0.5];

beforeAll(() => useBackend('cpu'));

const sha = (x: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    .digest('hex')
    .slice(0, 16);

describe('image pipeline', () => {
  it('eval transform of a same-size image is the exact normalised pixels, CHW', () => {
    const img = { width: 2, height: 2, data: new Uint8Array([0, 255, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]) };
    const out = pipelineFromOptions({ size: 2, mean, std }).prepare(img, null);
    // R plane, G plane, B plane; (v/255 - 0.5) / 0.5.
    expect([...out]).toEqual([-1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1, 1]);
  });

  it('eval equals preprocessEval; augmentation is seeded, varies with the seed, and flips', async () => {
    const [item] = await herlevSubset(['normal_columnar'], 1);
    const img = await decodeImage(item.path);
    const p = pipelineFromOptions({ size: 32, mean, std });
    const ev = p.prepare(img, null);
    expect([...ev]).toEqual([...preprocessEval(img, { imageSize: 32, mean, std })]);
    expect([...p.prepare(img, 42)]).toEqual([...p.prepare(img, 42)]);
    const outs = Array.from({ length: 8 }, (_, s) => p.prepare(img, s));
    expect(new Set(outs.map((o) => o.slice(0, 64).join(','))).size).toBe(8);
    outs.forEach((o) => {
      expect(o.every((v) => v >= -1.0001 && v <= 1.0001)).toBe(true);
      expect([...o]).not.toEqual([...ev]);
    });
    // With the crop pinned to the whole (square, 40 px) image, an augmented sample is the eval
    // image or its exact mirror, and both occur.
    const whole = pipelineFromOptions({ size: 40, mean, std, scale: [1, 1] });
    const plain = whole.prepare(img, null);
    const mirror = new Float32Array(plain.length);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) mirror[c * 1600 + y * 40 + x] = plain[c * 1600 + y * 40 + 39 - x];
    const kinds = Array.from({ length: 12 }, (_, s) => {
      const o = whole.prepare(img, 100 + s).join(',');
      return o === plain.join(',') ? 'plain' : o === mirror.join(',') ? 'mirror' : 'other';
    });
    expect(kinds).toContain('plain');
    expect(kinds).toContain('mirror');
    expect(kinds).not.toContain('other');
    const noFlip = pipelineFromOptions({ size: 40, mean, std, scale: [1, 1], flip: false });
    for (let s = 0; s < 12; s++) expect(noFlip.prepare(img, 100 + s).join(',')).toBe(plain.join(','));
  });

  it('augment: false gives training images the eval transform, whatever the seed', async () => {
    const [item] = await herlevSubset(['light_dysplastic'], 1);
    const img = await decodeImage(item.path);
    const off = pipelineFromOptions({ size: 32, mean, std, augment: false });
    const ev = [...off.prepare(img, null)];
    for (const s of [0, 1, 7]) expect([...off.prepare(img, s)]).toEqual(ev);
    expect(off.describe().augment).toBe(false);
  });

  it('output is bit-identical to the pipeline production used before augmentation became an option', () => {
    // Digests recorded from the bicubic pipeline before the bilinear fallback was removed.
    const img = { width: 50, height: 37, data: new Uint8Array(50 * 37 * 3).map((_, i) => (i * 37) % 251) };
    const p = pipelineFromOptions({ size: 24, mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.4] });
    expect(sha(p.prepare(img, null))).toBe('24e096f478f32684');
    expect([0, 1, 99, 123456].map((s) => sha(p.prepare(img, s)))).toEqual([
      '24ed7f2680c7dc1c',
      '743841e28b16037b',
      '2aa40226942c0446',
      'b62c55c391b680f9',
    ]);
  });

  it('describes itself as runs recorded it (so fingerprints of existing runs still match)', () => {
    const p = pipelineFromOptions({ size: 32, mean, std });
    expect(p.describe()).toEqual({ kind: 'bicubic', size: 32, mean, std, augment: { randomResizedCrop: [0.7, 1], flip: true } });
    expect(pipelineFromOptions({ size: 32, mean, std, scale: [0.5, 1], flip: false }).describe().augment).toEqual({
      randomResizedCrop: [0.5, 1],
      flip: false,
    });
  });

  it('pipelineOptionsFor records the resolved defaults; a recorded run config rebuilds the same pipeline', async () => {
    const opts = pipelineOptionsFor({ imageSize: 32, mean, std });
    expect(opts).toEqual({ kind: 'bicubic', size: 32, mean, std, augment: true, scale: [0.7, 1], flip: true });
    expect(pipelineOptionsFor({ imageSize: 32, mean, std }, { augment: false }).augment).toBe(false);
    const [item] = await herlevSubset(['carcinoma_in_situ'], 1);
    const img = await decodeImage(item.path);
    const fresh = pipelineFromOptions(opts);
    // A config.json written before `augment` existed: { kind, size, mean, std, scale, flip }.
    const recorded = pipelineFromOptions(JSON.parse(JSON.stringify({ kind: 'bicubic', size: 32, mean, std, scale: [0.7, 1], flip: true })));
    for (const s of [null, 3, 4]) expect([...recorded.prepare(img, s)]).toEqual([...fresh.prepare(img, s)]);
    expect(recorded.describe()).toEqual(fresh.describe());
  });

  it('batches decoded images into [N, 3, S, S] tensors', async () => {
    const items = await herlevSubset(['normal_columnar', 'carcinoma_in_situ'], 2);
    const b = new ImageBatcher(pipelineFromOptions({ size: 16, mean, std }));
    const before = tf.memory().numTensors;
    const x = await b.load(
      items.map((i) => i.path),
      null,
    );
    expect(x.shape).toEqual([4, 3, 16, 16]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
