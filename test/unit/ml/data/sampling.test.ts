import { describe, expect, it } from 'vitest';
import { EpochSampler } from '../../../../src/ml/data/epochSampler';
import { remaining, sampleFewShot, validationShots, type LabeledItem } from '../../../../src/ml/data/fewShot';
import { hashSeed, Rng } from '../../../../src/ml/random';

const items: LabeledItem[] = [
  ...Array.from({ length: 10 }, (_, i) => ({ path: `a/${i}.png`, label: 0 })),
  ...Array.from({ length: 2 }, (_, i) => ({ path: `b/${i}.png`, label: 1 })),
  ...Array.from({ length: 5 }, (_, i) => ({ path: `c/${i}.png`, label: 2 })),
];

describe('few-shot sampling', () => {
  it('draws k per class without replacement when possible, with replacement when the class is too small', () => {
    const s = sampleFewShot(items, 3, 4, 1);
    expect(s.filter((x) => x.label === 0)).toHaveLength(4);
    expect(new Set(s.filter((x) => x.label === 0).map((x) => x.path)).size).toBe(4);
    const small = s.filter((x) => x.label === 1);
    expect(small).toHaveLength(4); // only 2 images: drawn with replacement
    expect(small.every((x) => x.path.startsWith('b/'))).toBe(true);
    expect(new Set(s.filter((x) => x.label === 2).map((x) => x.path)).size).toBe(4);
  });

  it('is a function of the seed: same seed same subset, other seed another subset', () => {
    expect(sampleFewShot(items, 3, 3, 7)).toEqual(sampleFewShot(items, 3, 3, 7));
    expect(sampleFewShot(items, 3, 3, 7)).not.toEqual(sampleFewShot(items, 3, 3, 8));
  });

  it('validates on min(shots, 4) per class, drawn from images not used for training', () => {
    expect([1, 2, 4, 16, 50].map(validationShots)).toEqual([1, 2, 4, 4, 4]);
    const train = sampleFewShot(items, 3, 3, 2);
    const rest = remaining(items, train);
    expect(rest.some((r) => train.some((t) => t.path === r.path))).toBe(false);
    expect(rest.filter((r) => r.label === 0)).toHaveLength(7);
  });
});

describe('epoch sampler (DataLoader shuffle=True, drop_last=False)', () => {
  it('covers every index once per epoch, with a short last batch, and reshuffles each epoch', () => {
    const s = new EpochSampler(10, 4, 3);
    const e0 = [s.next(), s.next(), s.next()];
    expect(e0.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(e0.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const e1 = [s.next(), s.next(), s.next()];
    expect(s.state.epoch).toBe(1);
    expect(e1.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e1.flat()).not.toEqual(e0.flat());
  });

  it('resumes from its saved state to the same batches', () => {
    const a = new EpochSampler(7, 3, 9);
    for (let i = 0; i < 4; i++) a.next();
    const saved = { ...a.state };
    const next = [a.next(), a.next()];
    const b = new EpochSampler(7, 3, 9);
    b.state = saved;
    expect([b.next(), b.next()]).toEqual(next);
  });
});

describe('seeded random streams', () => {
  it('are reproducible and distinct per key', () => {
    expect(new Rng(hashSeed(1, 'x', 2)).next()).toBe(new Rng(hashSeed(1, 'x', 2)).next());
    expect(hashSeed(1, 'x', 2)).not.toBe(hashSeed(1, 'x', 3));
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    const u = new Rng(5).uniformArray(10000, -1, 1);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});
