// The one seeded RNG module: both streams (mulberry32 `Rng`, xoshiro128** `Xoshiro128`) keep the
// exact sequences the generators they replaced drew (values recorded from those), because LoRA
// init, dropout masks, samplers, augmentation and random test models are pinned to them.
import { describe, expect, it } from 'vitest';
import { Rng, SeededRandom, Xoshiro128 } from '../../../../src/ml/random';

describe('src/ml/random', () => {
  it('Rng (mulberry32) and Xoshiro128 replay their recorded sequences for seed 7', () => {
    const m = new Rng(7);
    expect(Array.from({ length: 10 }, () => m.nextU32())).toEqual([
      50271532, 266108690, 4195786334, 3002305430, 2239590375, 1741702388, 2002453909, 1030470827, 2376515373, 3134562008,
    ]);
    const x = new Xoshiro128(7);
    expect(Array.from({ length: 10 }, () => x.nextU32())).toEqual([
      1004282400, 2200021487, 1928073449, 741806228, 2429532727, 2033801169, 2204226377, 1532573114, 3627243488, 964317380,
    ]);
    expect(Array.from({ length: 5 }, () => x.normal())).toEqual([
      -0.5890697419759678, -0.6702124436242478, 0.23941712050245265, -1.3726948422181664, -0.31972342903496526,
    ]);
  });

  it('share one API: next, int, uniform, shuffle derived the same way from each stream', () => {
    for (const make of [() => new Rng(3), () => new Xoshiro128(3)]) {
      const a: SeededRandom = make();
      const b: SeededRandom = make();
      const u = a.next();
      expect(b.int(1000)).toBe(Math.floor(u * 1000));
      expect(a.uniform(2, 4)).toBe(2 + 2 * b.next());
      expect(a.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('Rng state is one uint32, Xoshiro128 state four words; both resume mid-stream', () => {
    const m = new Rng(11);
    m.nextU32();
    const copy = new Rng(0);
    copy.state = m.state;
    expect(copy.nextU32()).toBe(m.nextU32());
    const x = new Xoshiro128(11);
    x.nextU32();
    expect(x.clone().nextU32()).toBe(new Xoshiro128(x.getState()).nextU32());
  });
});
