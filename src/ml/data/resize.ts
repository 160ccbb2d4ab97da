// Bicubic resampling that reproduces Pillow's Image.resize(..., BICUBIC) on 8-bit RGB, which is
// what torchvision's Resize does on PIL images (and so what CLIP, open_clip and timm pipelines
// saw in training): separable, antialiased (the kernel widens when downscaling), a = -0.5,
// fixed-point weights with 22 fractional bits, horizontal pass first, rounding to uint8
// between the passes (Pillow's libImaging/Resample.c).
import type { RgbImage } from '../../shared/image';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output pixel
  kk: Int32Array; // fixed-point weights, ksize per output pixel
}

// Batch classification resizes every cell patch from the same side to the same side: the weights
// of an axis are computed once per (in, out) pair, not per image.
const coeffCache = new Map<number, Coeffs>();
const COEFF_CACHE_MAX = 64;

function coefficients(inSize: number, outSize: number): Coeffs {
  const key = inSize * 1_000_000 + outSize;
  let c = coeffCache.get(key);
  if (!c) {
    c = computeCoefficients(inSize, outSize);
    if (coeffCache.size >= COEFF_CACHE_MAX) coeffCache.delete(coeffCache.keys().next().value!);
    coeffCache.set(key, c);
  }
  return c;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis. */
function computeCoefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

// 2^-22 is exact in binary: multiplying by it rounds exactly as dividing by ONE, only faster.
const INV_ONE = 1 / ONE;

function clip8(ss: number): number {
  const v = Math.floor(ss * INV_ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Buffers lent to resizeBicubic so that resizing patch after patch of one size allocates no pixel
 * buffers: the result then lives in the scratch, valid until the next resize with it (batch
 * classification's preprocessing writes each patch into its batch at once).
 */
export class ResizeScratch {
  private readonly buffers = [new Uint8Array(0), new Uint8Array(0)];

  take(pass: 0 | 1, n: number): Uint8Array {
    if (this.buffers[pass].length !== n) this.buffers[pass] = new Uint8Array(n);
    return this.buffers[pass];
  }
}

/** Pillow-exact bicubic resize of an RGB image to outW x outH (into `scratch` when given). */
export function resizeBicubic(img: RgbImage, outW: number, outH: number, scratch?: ResizeScratch): RgbImage {
  if (!(outW >= 1 && outH >= 1 && Number.isInteger(outW) && Number.isInteger(outH)))
    throw new Error(`invalid resize target ${outW}x${outH}`);
  let cur = img;
  if (outW !== img.width) {
    const { ksize, bounds, kk } = coefficients(img.width, outW);
    const out = scratch ? scratch.take(0, outW * img.height * 3) : new Uint8Array(outW * img.height * 3);
    const src = cur.data;
    for (let y = 0; y < img.height; y++) {
      const row = y * img.width * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const n = bounds[xx * 2 + 1];
        let r = ONE / 2,
          g = ONE / 2,
          b = ONE / 2;
        for (let x = 0; x < n; x++) {
          const w = kk[xx * ksize + x];
          const p = row + (xmin + x) * 3;
          r += src[p] * w;
          g += src[p + 1] * w;
          b += src[p + 2] * w;
        }
        const o = (y * outW + xx) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    cur = { data: out, width: outW, height: img.height };
  }
  if (outH !== cur.height) {
    const { ksize, bounds, kk } = coefficients(cur.height, outH);
    const out = scratch ? scratch.take(1, outW * outH * 3) : new Uint8Array(outW * outH * 3);
    const stride = cur.width * 3;
    const src = cur.data;
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2];
      const n = bounds[yy * 2 + 1];
      for (let x = 0; x < outW; x++) {
        let r = ONE / 2,
          g = ONE / 2,
          b = ONE / 2;
        for (let y = 0; y < n; y++) {
          const w = kk[yy * ksize + y];
          const p = (ymin + y) * stride + x * 3;
          r += src[p] * w;
          g += src[p + 1] * w;
          b += src[p + 2] * w;
        }
        const o = (yy * outW + x) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    cur = { data: out, width: outW, height: outH };
  }
  if (cur !== img || scratch) return cur;
  return { data: img.data.slice(), width: img.width, height: img.height };
}

/** Crops the rectangle (left, top, width, height), which must lie inside the image. */
export function crop(img: RgbImage, left: number, top: number, w: number, h: number): RgbImage {
  if (left < 0 || top < 0 || left + w > img.width || top + h > img.height || w < 1 || h < 1) {
    throw new Error(`crop ${w}x${h}+${left}+${top} outside a ${img.width}x${img.height} image`);
  }
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + w) * 3), y * w * 3);
  return { data: out, width: w, height: h };
}

export function flipHorizontal(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const d = (y * img.width + (img.width - 1 - x)) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { data: out, width: img.width, height: img.height };
}
