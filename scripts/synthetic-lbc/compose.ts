// Renders the synthetic slide in horizontal strips: optical densities of glass tint, debris and
// cell sprites add up (Beer-Lambert), then become RGB under a slightly uneven illumination with
// sensor noise. Strips keep the float working memory at width x 256 x 3 whatever the slide size.
import type { Sprite } from './cellSprite';
import type { Rng } from '../../src/ml/random';

export interface Placement {
  sprite: Sprite;
  /** Top-left of the sprite on the slide, level-0 px. */
  x: number;
  y: number;
}

/** A soft dot of stain (debris, strands are chains of them): Gaussian profile of `sigma` px. */
export interface SoftDot {
  x: number;
  y: number;
  sigma: number;
  od: readonly [number, number, number];
}

export interface ComposeOptions {
  width: number;
  height: number;
  placements: readonly Placement[];
  dots: readonly SoftDot[];
  /** Glass colour at the centre of the field. */
  white: readonly [number, number, number];
  /** Fractional light fall-off at the corners (vignetting), e.g. 0.05. */
  vignetting: number;
  /** Standard deviation of per-pixel noise, grey levels. */
  noise: number;
  rng: Rng;
}

const STRIP = 256;

export function composeSlide(o: ComposeOptions): Uint8Array {
  const { width: w, height: h } = o;
  const rgb = new Uint8Array(w * h * 3);
  const od = new Float32Array(w * STRIP * 3);
  // 64 Ki pre-drawn normal samples walked by a stride: per-pixel Box-Muller would dominate the time.
  const noise = new Float32Array(65536);
  for (let i = 0; i < noise.length; i++) noise[i] = o.rng.normal() * o.noise;
  let noiseAt = o.rng.int(noise.length);
  // 10^-od on a 1/1024 grid up to OD 4: pow() per channel would dominate the render time.
  const transmit = new Float32Array(4096);
  for (let i = 0; i < transmit.length; i++) transmit[i] = Math.pow(10, -i / 1024);
  const cx = w / 2;
  const cy = h / 2;
  const r2 = cx * cx + cy * cy;
  for (let y0 = 0; y0 < h; y0 += STRIP) {
    const rows = Math.min(STRIP, h - y0);
    od.fill(0);
    for (const d of o.dots) {
      const reach = Math.ceil(3 * d.sigma);
      if (d.y + reach < y0 || d.y - reach >= y0 + rows) continue;
      const k = -1 / (2 * d.sigma * d.sigma);
      for (let y = Math.max(y0, Math.floor(d.y - reach)); y <= Math.min(y0 + rows - 1, d.y + reach); y++)
        for (let x = Math.max(0, Math.floor(d.x - reach)); x <= Math.min(w - 1, d.x + reach); x++) {
          const g = Math.exp(((x - d.x) ** 2 + (y - d.y) ** 2) * k);
          const i = ((y - y0) * w + x) * 3;
          od[i] += g * d.od[0];
          od[i + 1] += g * d.od[1];
          od[i + 2] += g * d.od[2];
        }
    }
    for (const p of o.placements) {
      const s = p.sprite;
      const top = Math.max(y0, p.y);
      const bottom = Math.min(y0 + rows, p.y + s.side);
      if (bottom <= top) continue;
      for (let y = top; y < bottom; y++)
        for (let sx = Math.max(0, -p.x); sx < s.side && p.x + sx < w; sx++) {
          const si = ((y - p.y) * s.side + sx) * 3;
          const i = ((y - y0) * w + p.x + sx) * 3;
          od[i] += s.od[si];
          od[i + 1] += s.od[si + 1];
          od[i + 2] += s.od[si + 2];
        }
    }
    for (let y = 0; y < rows; y++) {
      const dy = y0 + y - cy;
      for (let x = 0; x < w; x++) {
        const light = 1 - (o.vignetting * ((x - cx) ** 2 + dy * dy)) / r2;
        const i = (y * w + x) * 3;
        const j = ((y0 + y) * w + x) * 3;
        for (let c = 0; c < 3; c++) {
          noiseAt = (noiseAt + 40503) & 65535;
          const t = transmit[Math.min(4095, (od[i + c] * 1024) | 0)];
          const v = o.white[c] * light * t + noise[noiseAt];
          rgb[j + c] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
        }
      }
    }
  }
  return rgb;
}
