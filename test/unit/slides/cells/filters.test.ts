import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel, squareExtreme, subtractBackground } from '../../../../src/slides/cells/filters';
import { distanceTransform } from '../../../../src/slides/cells/distance';

function random(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('filters', () => {
  it('gaussianBlur equals a direct clamped 2-D convolution', () => {
    const w = 23;
    const h = 17;
    const src = random(w * h);
    const out = gaussianBlur(src, w, h, 1.5, new Float32Array(w * h), new Float32Array(w * h));
    const k = gaussianKernel(1.5);
    const r = (k.length - 1) / 2;
    const clamp = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v));
    for (const [x, y] of [
      [0, 0],
      [5, 9],
      [22, 16],
      [11, 0],
    ]) {
      let acc = 0;
      for (let j = -r; j <= r; j++) for (let i = -r; i <= r; i++) acc += k[j + r] * k[i + r] * src[clamp(y + j, h) * w + clamp(x + i, w)];
      expect(out[y * w + x]).toBeCloseTo(acc, 5);
    }
  });

  it('gaussianBlur keeps a constant image constant', () => {
    const src = new Float32Array(40 * 30).fill(0.7);
    const out = gaussianBlur(src, 40, 30, 2.5, new Float32Array(1200), new Float32Array(1200));
    for (const v of out) expect(v).toBeCloseTo(0.7, 5);
  });

  it('squareExtreme equals a brute-force min and max (out may alias src)', () => {
    const w = 31;
    const h = 12;
    const src = random(w * h, 7);
    for (const r of [1, 3, 7]) {
      const min = squareExtreme(src, w, h, r, false, new Float32Array(w * h), new Float32Array(w * h));
      const copy = Float32Array.from(src);
      const max = squareExtreme(copy, w, h, r, true, copy, new Float32Array(w * h));
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++)
            for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
              lo = Math.min(lo, src[yy * w + xx]);
              hi = Math.max(hi, src[yy * w + xx]);
            }
          expect(min[y * w + x]).toBe(lo);
          expect(max[y * w + x]).toBe(hi);
        }
    }
  });

  it('background subtraction removes offsets and broad plateaus but keeps a nucleus-sized disk', () => {
    const w = 200;
    const h = 120;
    const src = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0.05; // haze everywhere
        if (x >= 100) v += 0.2; // a wide sheet of cytoplasm on the right half
        if (Math.hypot(x - 40, y - 60) < 8) v += 0.6; // a nucleus on glass
        if (Math.hypot(x - 150, y - 60) < 8) v += 0.6; // a nucleus on the cytoplasm
        src[y * w + x] = v;
      }
    subtractBackground(src, w, h, 12);
    expect(src[60 * w + 40]).toBeCloseTo(0.6, 1);
    expect(src[60 * w + 150]).toBeCloseTo(0.6, 1);
    expect(Math.abs(src[20 * w + 20])).toBeLessThan(0.02);
    expect(Math.abs(src[20 * w + 170])).toBeLessThan(0.02);
  });

  it('distanceTransform gives Euclidean distances to the background', () => {
    const w = 9;
    const h = 9;
    const mask = new Uint8Array(w * h).fill(1);
    mask[4 * w + 4] = 0;
    const d = distanceTransform(mask, w, h, new Float32Array(w * h));
    expect(d[4 * w + 4]).toBe(0);
    expect(d[4 * w + 7]).toBeCloseTo(3, 6);
    expect(d[0]).toBeCloseTo(Math.hypot(4, 4), 6);
  });
});
