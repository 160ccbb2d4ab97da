// A RegionSource on sharp/libvips for pyramidal tiled TIFF (what scripts/synthetic-lbc-slide.ts
// writes) and the JPEG pages of SVS files, for headless runs: the benchmark, the tests and the
// CLI scripts. The application passes its own SlideReader (OpenSlide first), which fits the same
// structural interface. libvips decodes only the tiles a region touches.
import sharp from 'sharp';
import type { Mpp, RegionSource } from './types';

export interface TiffSource extends RegionSource {
  readonly path: string;
}

/** Microns per pixel from sharp's density (always pixels per inch, whatever the TIFF's unit). */
function mppOf(density: number | undefined): Mpp | null {
  return density && density > 0 ? { x: 25_400 / density, y: 25_400 / density } : null;
}

/**
 * Levels: page 0 and each following page smaller than the one before with the same aspect
 * (within 2 %), as OpenSlide's generic-tiff reader; other pages (label, macro) are ignored.
 */
export async function openTiffSource(path: string, o: { mpp?: Mpp | null } = {}): Promise<TiffSource> {
  const head = await sharp(path, { limitInputPixels: false }).metadata();
  const pages: Array<{ page: number; width: number; height: number }> = [{ page: 0, width: head.width!, height: head.height! }];
  for (let p = 1; p < (head.pages ?? 1); p++) {
    const m = await sharp(path, { page: p, limitInputPixels: false }).metadata();
    const prev = pages[pages.length - 1];
    const aspect = head.width! / head.height! / (m.width! / m.height!);
    if (m.width! < prev.width && m.height! < prev.height && Math.abs(aspect - 1) < 0.02)
      pages.push({ page: p, width: m.width!, height: m.height! });
  }
  const downsamples = pages.map((p) => (head.width! / p.width + head.height! / p.height) / 2);
  return {
    path,
    dimensions: { width: head.width!, height: head.height! },
    levelCount: pages.length,
    levelDimensions: pages.map((p) => ({ width: p.width, height: p.height })),
    levelDownsamples: downsamples,
    mpp: o.mpp !== undefined ? o.mpp : mppOf(head.density),
    async readRegion(level, x0, y0, w, h) {
      const pg = pages[level];
      if (!pg) throw new RangeError(`invalid level ${level}`);
      const lx = Math.round(x0 / downsamples[level]);
      const ly = Math.round(y0 / downsamples[level]);
      // Clip to the page and pad with white, as OpenSlide shows transparent areas.
      const left = Math.max(0, lx);
      const top = Math.max(0, ly);
      const right = Math.min(pg.width, lx + w);
      const bottom = Math.min(pg.height, ly + h);
      if (right <= left || bottom <= top) return { data: new Uint8Array(w * h * 3).fill(255), width: w, height: h };
      const { data, info } = await sharp(path, { page: pg.page, limitInputPixels: false })
        .extract({ left, top, width: right - left, height: bottom - top })
        .extend({ left: left - lx, top: top - ly, right: lx + w - right, bottom: ly + h - bottom, background: { r: 255, g: 255, b: 255 } })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.width !== w || info.height !== h || info.channels !== 3)
        throw new Error(`libvips returned ${info.width}x${info.height}x${info.channels} for a ${w}x${h} region`);
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: w, height: h };
    },
  };
}
