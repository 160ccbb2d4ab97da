// A RegionSource over an RGB image in memory, with a 2x box-filtered pyramid: for tests, and for
// running the tile runner on plain images (PNG, JPEG, BMP) that have no pyramid of their own.
import type { Mpp, RegionSource, RgbImage } from './types';

function halve(img: RgbImage): RgbImage {
  const w = Math.max(1, img.width >> 1);
  const h = Math.max(1, img.height >> 1);
  const out = new Uint8Array(w * h * 3);
  const sw = img.width;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const x0 = Math.min(sw - 1, 2 * x);
        const x1 = Math.min(sw - 1, 2 * x + 1);
        const y0 = Math.min(img.height - 1, 2 * y);
        const y1 = Math.min(img.height - 1, 2 * y + 1);
        const s =
          img.data[(y0 * sw + x0) * 3 + c] +
          img.data[(y0 * sw + x1) * 3 + c] +
          img.data[(y1 * sw + x0) * 3 + c] +
          img.data[(y1 * sw + x1) * 3 + c];
        out[(y * w + x) * 3 + c] = (s + 2) >> 2;
      }
  return { data: out, width: w, height: h };
}

export interface MemorySource extends RegionSource {
  /** Regions read so far and the largest one, pixels: lets tests check memory stays bounded. */
  readonly reads: { count: number; maxPixels: number };
}

/** `levels` pyramid levels (each half the previous); outside the image reads as `background`. */
export function memoryRegionSource(
  image: RgbImage,
  mpp: Mpp | null,
  levels = 1,
  background: readonly [number, number, number] = [255, 255, 255],
): MemorySource {
  const pyramid = [image];
  while (pyramid.length < levels && pyramid[pyramid.length - 1].width > 1) pyramid.push(halve(pyramid[pyramid.length - 1]));
  const reads = { count: 0, maxPixels: 0 };
  return {
    dimensions: { width: image.width, height: image.height },
    levelCount: pyramid.length,
    levelDimensions: pyramid.map((p) => ({ width: p.width, height: p.height })),
    levelDownsamples: pyramid.map((p) => (image.width / p.width + image.height / p.height) / 2),
    mpp,
    reads,
    async readRegion(level, x0, y0, w, h) {
      const src = pyramid[level];
      if (!src) throw new RangeError(`invalid level ${level}`);
      reads.count++;
      reads.maxPixels = Math.max(reads.maxPixels, w * h);
      const ds = (image.width / src.width + image.height / src.height) / 2;
      const lx = Math.round(x0 / ds);
      const ly = Math.round(y0 / ds);
      const out = new Uint8Array(w * h * 3);
      for (let i = 0; i < out.length; i += 3) out.set(background, i);
      // Copy the part inside the level row by row; the rest stays background.
      const left = Math.max(0, lx);
      const right = Math.min(src.width, lx + w);
      for (let y = Math.max(0, ly); y < Math.min(src.height, ly + h) && right > left; y++)
        out.set(src.data.subarray((y * src.width + left) * 3, (y * src.width + right) * 3), ((y - ly) * w + left - lx) * 3);
      return { data: out, width: w, height: h };
    },
  };
}
