// Seeded, serialisable randomness for everything in training (init, sampling, dropout,
// augmentation). Counter-style: each consumer derives its own stream from (seed, purpose,
// step, ...) with `hashSeed`, so a run resumed at step k replays exactly what an
// uninterrupted run would have drawn, without replaying the streams of steps < k.

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

/** mulberry32: tiny, fast, good enough for sampling and masks; state is one uint32. */
export class Rng {
  private s: number;
  constructor(seed: number) {
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
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher-Yates, in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  /** `count` values filled with U(lo, hi). */
  uniformArray(count: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }
}
