// Float32 image filters, written for speed in plain TypeScript: separable passes whose inner
// loops run along rows (contiguous memory, no branches), no per-pixel allocation, caller-owned
// planes. libvips (sharp) has fast blurs too, but each call would copy the tile to the native
// side and back through the thread pool; at the small sigmas used here the JS loops are cheaper.

/** Normalised 1-D Gaussian taps, radius ceil(3 sigma). */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Gaussian blur of `src` (w x h) into `out` (not aliasing `src`), edges clamped; `scratch` holds
 * the horizontal pass. Both passes add one symmetric pair of taps at a time over a whole row.
 */
export function gaussianBlur(
  src: Float32Array,
  w: number,
  h: number,
  sigma: number,
  out: Float32Array,
  scratch: Float32Array,
): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) >> 1;
  const pad = new Float32Array(w + 2 * r);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    // Row with r clamped pixels each side, so the tap loops need no bounds checks.
    for (let x = 0; x < r; x++) {
      pad[x] = src[row];
      pad[w + r + x] = src[row + w - 1];
    }
    pad.set(src.subarray(row, row + w), r);
    const k0 = k[r];
    for (let x = 0; x < w; x++) scratch[row + x] = k0 * pad[x + r];
    for (let j = 1; j <= r; j++) {
      const kj = k[r + j];
      const lo = r - j;
      const hi = r + j;
      for (let x = 0; x < w; x++) scratch[row + x] += kj * (pad[x + lo] + pad[x + hi]);
    }
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const k0 = k[r];
    for (let x = 0; x < w; x++) out[row + x] = k0 * scratch[row + x];
    for (let j = 1; j <= r; j++) {
      const kj = k[r + j];
      const up = (y - j < 0 ? 0 : y - j) * w;
      const down = (y + j >= h ? h - 1 : y + j) * w;
      for (let x = 0; x < w; x++) out[row + x] += kj * (scratch[up + x] + scratch[down + x]);
    }
  }
  return out;
}

/**
 * Running min (or max) over 2r + 1 samples along each row, van Herk / Gil-Werman: prefix and
 * suffix extremes per block of the window's length, three comparisons per pixel at any radius.
 */
function rowExtreme(src: Float32Array, out: Float32Array, w: number, h: number, r: number, isMax: boolean): void {
  const k = 2 * r + 1;
  const n = w + 2 * r;
  const p = new Float32Array(n);
  const g = new Float32Array(n);
  const s = new Float32Array(n);
  const neutral = isMax ? -Infinity : Infinity;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    // Padded row: index q holds source x = q - r; the margins are neutral.
    p.fill(neutral, 0, r);
    p.set(src.subarray(row, row + w), r);
    p.fill(neutral, r + w, n);
    for (let b = 0; b < n; b += k) {
      const end = Math.min(n, b + k);
      g[b] = p[b];
      s[end - 1] = p[end - 1];
      if (isMax) {
        for (let q = b + 1; q < end; q++) g[q] = g[q - 1] > p[q] ? g[q - 1] : p[q];
        for (let q = end - 2; q >= b; q--) s[q] = s[q + 1] > p[q] ? s[q + 1] : p[q];
      } else {
        for (let q = b + 1; q < end; q++) g[q] = g[q - 1] < p[q] ? g[q - 1] : p[q];
        for (let q = end - 2; q >= b; q--) s[q] = s[q + 1] < p[q] ? s[q + 1] : p[q];
      }
    }
    // The window of output x covers padded [x, x + 2r]: the suffix of its first block, the prefix of its last.
    const r2 = 2 * r;
    if (isMax) for (let x = 0; x < w; x++) out[row + x] = s[x] > g[x + r2] ? s[x] : g[x + r2];
    else for (let x = 0; x < w; x++) out[row + x] = s[x] < g[x + r2] ? s[x] : g[x + r2];
  }
}

/** Running min (or max) over 2r + 1 rows, a whole row at a time (cache-friendly, cost 2r + 1). */
function columnExtreme(src: Float32Array, out: Float32Array, w: number, h: number, r: number, isMax: boolean): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    out.set(src.subarray(row, row + w), row);
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      if (yy === y) continue;
      const other = yy * w;
      if (isMax) for (let x = 0; x < w; x++) out[row + x] = out[row + x] > src[other + x] ? out[row + x] : src[other + x];
      else for (let x = 0; x < w; x++) out[row + x] = out[row + x] < src[other + x] ? out[row + x] : src[other + x];
    }
  }
}

/**
 * Square min (erode) or max (dilate) filter of radius r. `out` may alias `src`; `scratch` must
 * not. Meant for small radii at full resolution (local maxima) and any radius on pooled planes.
 */
export function squareExtreme(
  src: Float32Array,
  w: number,
  h: number,
  r: number,
  isMax: boolean,
  out: Float32Array,
  scratch: Float32Array,
): Float32Array {
  rowExtreme(src, scratch, w, h, r, isMax);
  columnExtreme(scratch, out, w, h, r, isMax);
  return out;
}

/**
 * Subtract the local background in place: a grey opening (erode, then dilate) with a square of
 * radius r, as QuPath's background subtraction. It removes what cannot hold the square (nuclei
 * up to ~2.8 r across) and keeps broad structures (glass, haze, wide cytoplasm). The background
 * is smooth at this scale, so the opening runs on a min-pooled plane (pool f ~ r / 6, i.e.
 * f^2 times fewer pixels) and is interpolated back bilinearly.
 */
export function subtractBackground(src: Float32Array, w: number, h: number, r: number): void {
  const f = Math.max(1, Math.floor(r / 6));
  const cw = Math.ceil(w / f);
  const ch = Math.ceil(h / f);
  const pooled = new Float32Array(cw * ch).fill(Infinity);
  for (let y = 0; y < h; y++) {
    const crow = ((y / f) | 0) * cw;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const c = crow + ((x / f) | 0);
      const v = src[row + x];
      if (v < pooled[c]) pooled[c] = v;
    }
  }
  const rc = Math.max(1, Math.round(r / f));
  const scratch = new Float32Array(cw * ch);
  squareExtreme(pooled, cw, ch, rc, false, pooled, scratch);
  squareExtreme(pooled, cw, ch, rc, true, pooled, scratch);
  // Bilinear between pooled-cell centres; per-column weights computed once.
  const gx = new Int32Array(w);
  const fx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const t = Math.min(cw - 1, Math.max(0, (x + 0.5) / f - 0.5));
    gx[x] = Math.min(Math.max(0, cw - 2), Math.floor(t));
    fx[x] = cw === 1 ? 0 : t - gx[x];
  }
  const step = cw === 1 ? 0 : 1;
  for (let y = 0; y < h; y++) {
    const t = Math.min(ch - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const gy = Math.min(Math.max(0, ch - 2), Math.floor(t));
    const fy = ch === 1 ? 0 : t - gy;
    const r0 = gy * cw;
    const r1 = ch === 1 ? r0 : r0 + cw;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const g = gx[x];
      const a = pooled[r0 + g] + fx[x] * (pooled[r0 + g + step] - pooled[r0 + g]);
      const b = pooled[r1 + g] + fx[x] * (pooled[r1 + g + step] - pooled[r1 + g]);
      src[row + x] -= a + fy * (b - a);
    }
  }
}
