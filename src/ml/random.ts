// The one home of seeded randomness in src/ml (init, sampling, dropout, augmentation, random
// test models). Never use Math.random in the ML path. Counter-style: each consumer derives its
// own stream from (seed, purpose, step, ...) with `hashSeed`, so a run resumed at step k replays
// exactly what an uninterrupted run would have drawn, without replaying the streams of steps < k.
//
// Two generators live here behind one API (`SeededRandom`), because results that tests, saved
// checkpoints and recorded runs pin were drawn from both, and changing either sequence would
// change those results:
//   Rng        mulberry32, state one uint32: LoRA and head init, branch dropout masks, epoch
//              sampler, few-shot subsets, experiment splits (everything keyed by hashSeed).
//   Xoshiro128 xoshiro128**, state four uint32 words: training augmentation (random resized crop
//              + flip) and the random weights of test/bench models (randomStateDict).
// New code should use `Rng`.

/** Mixes integers (and short strings) into one 32-bit seed (murmur3 finaliser per part). */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const words = typeof part === 'number' ? splitNumber(part) : [...part].map((c) => c.codePointAt(0) ?? 0);
    for (const w of words) {
      h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
    h = (h + 0x27d4eb2f) | 0;
  }
  return h >>> 0;
}

function splitNumber(n: number): number[] {
  if (!Number.isFinite(n)) throw new Error(`hashSeed: non-finite part ${n}`);
  // Integers up to 2^53 keep both halves; fractions are rare (seeds are integers) but stay distinct.
  const hi = Math.floor(n / 0x100000000);
  const lo = n - hi * 0x100000000;
  return Number.isInteger(n) ? [lo >>> 0, hi >>> 0] : [Math.floor(lo) >>> 0, hi >>> 0, Math.round((n % 1) * 1e9)];
}

/**
 * Everything a caller draws, derived from 32 uniform bits at a time. Both generators share these
 * derivations, so a given generator's sequence of values does not depend on which helper
 * asked for them (int(n) is floor(next() * n) in both, as it was in each before).
 */
export abstract class SeededRandom {
  /** Next uint32 of the generator's stream. */
  abstract nextU32(): number;

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n) (n >= 1). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; two draws, no hidden spare, so the state is all there is). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** `count` values filled with U(lo, hi). */
  uniformArray(count: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }
}

/** mulberry32: tiny, fast, good enough for sampling and masks; state is one uint32. */
export class Rng extends SeededRandom {
  private s: number;
  constructor(seed: number) {
    super();
    this.s = seed >>> 0;
  }
  get state(): number {
    return this.s;
  }
  set state(v: number) {
    this.s = v >>> 0;
  }
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

export type Xoshiro128State = [number, number, number, number];

/** xoshiro128**: whole state is four uint32 words (saved and restored with getState/setState). */
export class Xoshiro128 extends SeededRandom {
  private s = new Uint32Array(4);

  constructor(seed: number | Xoshiro128State = 0) {
    super();
    if (Array.isArray(seed)) this.setState(seed);
    else this.seed(seed);
  }

  /** Seeds the four words with splitmix32, so nearby seeds give unrelated streams. */
  private seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  getState(): Xoshiro128State {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: Xoshiro128State): void {
    if (state.length !== 4 || state.every((v) => v >>> 0 === 0)) throw new Error('invalid RNG state: four uint32 words, not all zero');
    state.forEach((v, i) => (this.s[i] = v >>> 0));
  }

  clone(): Xoshiro128 {
    return new Xoshiro128(this.getState());
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
