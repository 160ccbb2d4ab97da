// Shared by the slide integration tests: the real slide and small pixel comparisons.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../src/shared/image';
import { slidePath } from './paths';

/** Real Aperio SVS, 2220 x 2967, one level, 240 px JPEG tiles (see test/fixtures/data/slides/SOURCE.md). */
export const SLIDE = slidePath;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cytotune-${prefix}-`));
}

/** Mean absolute difference per channel between two RGB images of the same size. */
export function meanAbsDiff(a: RgbImage, b: RgbImage): [number, number, number] {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size mismatch ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  const sum = [0, 0, 0];
  for (let i = 0; i < a.data.length; i++) sum[i % 3] += Math.abs(a.data[i] - b.data[i]);
  const n = a.width * a.height;
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

export async function decodeRgb(bytes: Uint8Array | string): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** A pyramidal, JPEG-tiled generic TIFF made from the real slide by libvips (5 levels, 256 px tiles, mpp 0.499). */
export async function writePyramidTiff(path: string): Promise<void> {
  // sharp's xres is in pixels per millimetre: 1000 / 0.499 µm.
  await sharp(SLIDE)
    .tiff({
      tile: true,
      tileWidth: 256,
      tileHeight: 256,
      pyramid: true,
      compression: 'jpeg',
      quality: 90,
      xres: 1000 / 0.499,
      yres: 1000 / 0.499,
      resolutionUnit: 'cm',
    })
    .toFile(path);
}
