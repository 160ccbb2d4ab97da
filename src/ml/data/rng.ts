// A small, explicit, seedable RNG (xoshiro128**) whose whole state is four uint32 words, so a
// training run can save it in a checkpoint and resume bit-identically. Never use Math.random
// in the ML path.

export type RngState = [number, number, number, number];

export class Rng {
  private s = new Uint32Array(4);

  constructor(seed: number | RngState = 0) {
    if (Array.isArray(seed)) this.setState(seed);
    else this.seed(seed);
  }

  /** Seeds the four words with splitmix32, so nearby seeds give unrelated streams. */
  seed(seed: number): void {
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

  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: RngState): void {
    if (state.length !== 4 || state.every((v) => v >>> 0 === 0)) throw new Error('invalid RNG state: four uint32 words, not all zero');
    state.forEach((v, i) => (this.s[i] = v >>> 0));
  }

  clone(): Rng {
    return new Rng(this.getState());
  }

  /** Next uint32. */
  nextUint32(): number {
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

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Integer in [lo, hi) (hi exclusive). */
  int(lo: number, hi: number): number {
    if (hi <= lo) throw new Error(`empty integer range [${lo}, ${hi})`);
    return lo + Math.floor(this.float() * (hi - lo));
  }

  /** Standard normal (Box-Muller; uses two draws, keeps no hidden spare so the state is all there is). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
