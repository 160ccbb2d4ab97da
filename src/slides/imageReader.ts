// Plain images (PNG, JPEG, untiled TIFF, BMP, WebP) as one-level slides. Decoded once and kept
// in memory when moderate in size (cell crops, fields of view); very large ones are cut by sharp
// per region instead so a 20k x 20k PNG does not pin 1.2 GB.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeImageBytes, ImageDecodeError } from './decodeImage';
import { isBmp } from './bmp';
import { assertReadableFile } from './openslide';
import { solid } from './sharpReader';
import { checkRegion, SlideOpenError, SlideReadError, type SlideReader } from './types';
import type { RgbImage, Size } from '../shared/image';
import { toRgb } from './sharpRgb';

const KEEP_DECODED_MAX_PIXELS = 64 * 1024 * 1024;

export async function openPlainImage(path: string): Promise<PlainImageReader> {
  await assertReadableFile(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SlideOpenError(path, (err as Error).message);
  }
  try {
    if (isBmp(bytes)) {
      const img = await decodeImageBytes(bytes, path);
      return new PlainImageReader(path, 'bmp', img, null);
    }
    const meta = await sharp(bytes, { failOn: 'error' }).metadata();
    if (!meta.width || !meta.height) throw new SlideOpenError(path, 'image has no size');
    if (meta.width * meta.height <= KEEP_DECODED_MAX_PIXELS) {
      return new PlainImageReader(path, meta.format ?? null, await decodeImageBytes(bytes, path), null);
    }
    return new PlainImageReader(path, meta.format ?? null, null, [meta.width, meta.height]);
  } catch (err) {
    if (err instanceof SlideOpenError) throw err;
    const reason = err instanceof ImageDecodeError ? err.message.slice(path.length + 2) : (err as Error).message.split('\n')[0];
    throw new SlideOpenError(path, `not a readable image (${reason})`);
  }
}

export class PlainImageReader implements SlideReader {
  readonly readerName = 'image' as const;
  readonly dimensions: Size;
  readonly levelCount = 1;
  readonly levelDimensions: readonly Size[];
  readonly levelDownsamples = [1];
  readonly mpp = null;
  readonly objectivePower = null;
  readonly background = [255, 255, 255] as const;
  readonly properties: Readonly<Record<string, string>> = {};
  readonly associatedImageNames: readonly string[] = [];
  private pixels: RgbImage | null;

  constructor(
    readonly path: string,
    /** The image format ('png', 'jpeg', 'bmp', ...) stands in for the vendor. */
    readonly vendor: string | null,
    pixels: RgbImage | null,
    size: Size | null,
  ) {
    this.pixels = pixels;
    this.dimensions = pixels ? [pixels.width, pixels.height] : size!;
    this.levelDimensions = [this.dimensions];
  }

  async readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage> {
    checkRegion(this, level, x0, y0, w, h);
    const [W, H] = this.dimensions;
    const left = Math.max(0, x0);
    const top = Math.max(0, y0);
    const right = Math.min(W, x0 + w);
    const bottom = Math.min(H, y0 + h);
    const out = solid(w, h, this.background);
    if (right <= left || bottom <= top) return out;
    const src = this.pixels ?? (await this.cutLarge(left, top, right - left, bottom - top));
    const srcW = this.pixels ? W : right - left;
    const sx = this.pixels ? left : 0;
    const sy = this.pixels ? top : 0;
    for (let y = top; y < bottom; y++) {
      const from = ((sy + y - top) * srcW + sx) * 3;
      out.data.set(src.data.subarray(from, from + (right - left) * 3), ((y - y0) * w + (left - x0)) * 3);
    }
    return out;
  }

  private async cutLarge(left: number, top: number, width: number, height: number): Promise<RgbImage> {
    try {
      return await toRgb(
        sharp(this.path, { limitInputPixels: false, failOn: 'error' })
          .extract({ left, top, width, height })
          .flatten({ background: '#ffffff' }),
      );
    } catch (err) {
      throw new SlideReadError(this.path, (err as Error).message.split('\n')[0]);
    }
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    throw new SlideReadError(this.path, `no associated image named '${name}'`);
  }

  close(): void {
    this.pixels = null;
  }
}
