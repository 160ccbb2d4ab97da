// A thumbnail or overview of a slide level too large to read at once is read in bands: no
// single region read exceeds the band budget, and the result is the whole level, scaled.
import { describe, expect, it } from 'vitest';
import { extractPatch, slideThumbnail } from '../../../src/slides/patches';
import { MAX_REGION_PIXELS } from '../../../src/slides/pixelLimits';
import { checkRegion, type SlideReader } from '../../../src/slides/types';
import type { RgbImage } from '../../../src/shared/image';

/** A single-level 40x-like slide whose pixels are a horizontal ramp (red = x / width * 255). */
function rampSlide(width: number, height: number, reads: number[]): SlideReader {
  return {
    path: '/virtual/ramp.svs',
    readerName: 'openslide',
    dimensions: [width, height],
    levelCount: 1,
    levelDimensions: [[width, height]],
    levelDownsamples: [1],
    mpp: null,
    vendor: null,
    objectivePower: null,
    background: [255, 255, 255],
    properties: {},
    associatedImageNames: [],
    async readRegion(level, x0, y0, w, h): Promise<RgbImage> {
      checkRegion(this, level, x0, y0, w, h);
      reads.push(w * h);
      const data = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const i = (y * w + x) * 3;
          data[i] = Math.round(((x0 + x) / width) * 255);
          data[i + 1] = 100;
          data[i + 2] = 50;
        }
      return { data, width: w, height: h };
    },
    async readAssociatedImage(): Promise<RgbImage> {
      throw new Error('none');
    },
    close() {},
  };
}

describe('banded reads of large levels', () => {
  it('a whole-slide thumbnail of a 12000 x 9000 single-level slide reads bands of at most 16 MP', async () => {
    const reads: number[] = [];
    const thumb = await slideThumbnail(rampSlide(12_000, 9_000, reads), 256);
    expect(thumb).toMatchObject({ width: 256, height: 192 });
    expect(reads.length).toBeGreaterThan(1);
    expect(Math.max(...reads)).toBeLessThanOrEqual(16 * 1024 * 1024);
    // The ramp survives: dark on the left, bright on the right, on every row.
    for (const y of [0, 95, 191]) {
      expect(thumb.data[(y * 256 + 2) * 3]).toBeLessThan(10);
      expect(thumb.data[(y * 256 + 253) * 3]).toBeGreaterThan(245);
    }
  });

  it('a natural-size patch larger than one region read is refused as a bug, not allocated', async () => {
    const reads: number[] = [];
    await expect(extractPatch(rampSlide(20_000, 20_000, reads), { box: { x: 0, y: 0, w: 9000, h: 9000 } })).rejects.toThrow(/too large/);
    expect(reads).toEqual([]);
    expect(9000 * 9000).toBeGreaterThan(MAX_REGION_PIXELS);
  });
});
