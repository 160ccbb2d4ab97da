// Preprocessing against Pillow (bicubic resize + centre crop, what torchvision runs on PIL images),
// normalisation constants per family, seeded augmentation and resumable RNG state.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../../../src/slides/decodeImage';
import { crop, resizeBicubic, ResizeScratch } from '../../../../src/ml/data/resize';
import { familyByName, type FamilyName } from '../../../../src/ml/models/registry';
import { Xoshiro128 as Rng } from '../../../../src/ml/random';
import {
  centerCrop,
  preprocessEval,
  preprocessTrain,
  randomResizedCropBox,
  resizeShorterSide,
  roundHalfEven,
} from '../../../../src/ml/data/transforms';
import { loadImageBatch } from '../../../../src/ml/data/loadImages';
import { fixturePath } from '../../../support/encoderFixtures';
import type { RgbImage } from '../../../../src/shared/image';
import { herlevDir } from '../../../support/paths';
import { join } from 'node:path';

/** What the removed familyNormalisation returned: the family's constants, as fresh arrays. */
function familyNormalisation(family: FamilyName): { mean: [number, number, number]; std: [number, number, number] } {
  const f = familyByName(family);
  return { mean: [...f.mean], std: [...f.std] };
}

interface PreCase {
  op: string;
  size: number;
  resized?: [number, number];
  box?: [number, number, number, number];
  rgb: number[];
}
const expected: { width: number; height: number; cases: PreCase[] } = JSON.parse(readFileSync(fixturePath('pre-expected.json'), 'utf8'));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}

describe('preprocessing', () => {
  it('resize-shorter-side + centre crop equals Pillow BICUBIC exactly (down- and up-scaling)', async () => {
    const img = await decodeImage(fixturePath('pre-image.png'));
    expect([img.width, img.height]).toEqual([expected.width, expected.height]);
    for (const c of expected.cases.filter((c) => c.op === 'eval')) {
      const r = resizeShorterSide(img, c.size);
      expect([r.width, r.height]).toEqual(c.resized);
      const out = centerCrop(r, c.size);
      expect(maxDiff(out.data, c.rgb)).toBe(0);
    }
  });

  it('crop then resize (the second half of RandomResizedCrop) equals Pillow exactly', async () => {
    const img = await decodeImage(fixturePath('pre-image.png'));
    const c = expected.cases.find((c) => c.op === 'crop-resize')!;
    const [l, t, w, h] = c.box!;
    expect(maxDiff(resizeBicubic(crop(img, l, t, w, h), c.size, c.size).data, c.rgb)).toBe(0);
  });

  it('normalises to CHW with the family constants', async () => {
    const img = await decodeImage(fixturePath('pre-image.png'));
    const c = expected.cases.find((c) => c.op === 'eval' && c.size === 24)!;
    for (const family of ['openai-clip', 'timm-vit', 'hf-vit', 'open-clip-timm'] as const) {
      const { mean, std } = familyNormalisation(family);
      const x = preprocessEval(img, { imageSize: 24, mean, std });
      expect(x.length).toBe(3 * 24 * 24);
      // Pixel (row 5, col 7), channel 2 in CHW vs HWC from Pillow.
      const hwc = c.rgb[(5 * 24 + 7) * 3 + 2];
      expect(x[2 * 576 + 5 * 24 + 7]).toBeCloseTo((hwc / 255 - mean[2]) / std[2], 5);
    }
    expect(familyNormalisation('open-clip-timm').mean).toEqual(familyNormalisation('openai-clip').mean);
    expect(familyNormalisation('timm-vit').mean).toEqual([0.485, 0.456, 0.406]);
    expect(familyNormalisation('hf-vit').std).toEqual([0.5, 0.5, 0.5]);
  });

  it('with a resize scratch, patch after patch equals the allocating path and reuses its buffers', async () => {
    const dir = join(herlevDir, 'severe_dysplastic');
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(dir).sort().slice(0, 6);
    const cfg = { imageSize: 32, ...familyNormalisation('openai-clip') };
    const scratch = new ResizeScratch();
    const seen = new Set<Uint8Array>();
    for (const f of files) {
      const img = await decodeImage(join(dir, f));
      // Patches of two sizes in turn: the scratch must not carry pixels of one into the next.
      for (const patch of [img, crop(img, 0, 0, img.width - 3, img.height - 3)]) {
        expect(preprocessEval(patch, cfg, undefined, 0, scratch)).toEqual(preprocessEval(patch, cfg));
      }
    }
    // Patches of one size after another (a slide's cells): one buffer for every result.
    const same = new ResizeScratch();
    for (const f of files) seen.add(resizeBicubic(await decodeImage(join(dir, f)), 48, 48, same).data);
    expect(seen.size).toBe(1);
  });

  it('loads a real Herlev BMP (40x40) into a batch at 32 px', async () => {
    const dir = join(herlevDir, 'normal_columnar');
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(dir)
      .filter((f) => /\.bmp$/i.test(f))
      .slice(0, 2)
      .map((f) => `${dir}/${f}`);
    expect(files.length).toBe(2);
    const batch = await loadImageBatch(files, { imageSize: 32, ...familyNormalisation('timm-vit') });
    expect(batch.length).toBe(2 * 3 * 32 * 32);
    expect(batch.every(Number.isFinite)).toBe(true);
    expect(Math.max(...batch)).toBeGreaterThan(0.5);
  });

  it('Python rounding: half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  });
});

describe('seeded augmentation', () => {
  const img: RgbImage = { width: 50, height: 40, data: new Uint8Array(50 * 40 * 3).map((_, i) => (i * 37) % 251) };
  const cfg = { imageSize: 16, ...familyNormalisation('openai-clip') };

  it('random resized crops stay inside the image and within the scale range', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const b = randomResizedCropBox(50, 40, rng, [0.7, 1]);
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= 50 && b.top + b.height <= 40).toBe(true);
      expect((b.width * b.height) / 2000).toBeGreaterThan(0.6);
    }
    // An impossible range falls back to the central crop.
    const f = randomResizedCropBox(50, 40, new Rng(2), [5, 6]);
    expect(f).toEqual({ top: 0, left: 0, width: 50, height: 40 });
  });

  it('same seed, same crops and flips; a saved RNG state resumes the same stream', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const outsA = [0, 1, 2].map(() => preprocessTrain(img, cfg, a));
    const saved = a.getState();
    const nextA = preprocessTrain(img, cfg, a);
    outsA.forEach((x) => expect(Array.from(x)).toEqual(Array.from(preprocessTrain(img, cfg, b))));
    const resumed = new Rng(saved);
    expect(Array.from(preprocessTrain(img, cfg, resumed))).toEqual(Array.from(nextA));
    expect(JSON.parse(JSON.stringify(resumed.getState()))).toEqual(a.getState());
    // Different seeds give different augmentations.
    expect(Array.from(preprocessTrain(img, cfg, new Rng(1)))).not.toEqual(Array.from(preprocessTrain(img, cfg, new Rng(2))));
  });

  it('flips horizontally about half the time, and never with probability 0', () => {
    const rng = new Rng(3);
    const sym: RgbImage = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).map((_, i) => Math.floor(i / 3) % 16) };
    let flips = 0;
    for (let i = 0; i < 100; i++) {
      const x = preprocessTrain(sym, { ...cfg, imageSize: 16 }, rng, { scale: [1, 1], ratio: [1, 1] });
      if (x[0] > x[15]) flips++; // column 0 brighter than column 15 only when flipped
    }
    expect(flips).toBeGreaterThan(30);
    expect(flips).toBeLessThan(70);
    const never = new Rng(3);
    for (let i = 0; i < 20; i++)
      expect(preprocessTrain(sym, { ...cfg, imageSize: 16 }, never, { scale: [1, 1], ratio: [1, 1], flipProbability: 0 })[0]).toBeLessThan(
        0,
      );
  });

  it('the RNG is uniform enough and its state is four uint32 words', () => {
    const r = new Rng(9);
    let s = 0;
    for (let i = 0; i < 10000; i++) s += r.next();
    expect(s / 10000).toBeGreaterThan(0.48);
    expect(s / 10000).toBeLessThan(0.52);
    expect(r.getState().every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
    expect(() => r.setState([0, 0, 0, 0])).toThrow();
  });
});
