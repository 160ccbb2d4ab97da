// Plain images (PNG, JPEG, untiled TIFF, BMP, WebP) as one-level slides, decoded once and kept in
// memory. Their size is bounded (pixelLimits.ts: a plain image is decoded whole, and a PNG cannot
// be read by region); larger scans are opened as tiled TIFF slides instead.
import { readFile } from 'node:fs/promises';
import { checkedImageHeader, decodeImageBytes, decoderReason, ImageDecodeError } from './decodeImage';
import { isBmp } from './bmp';
import { assertReadableFile } from './openslide';
import { solid } from './sharpReader';
import { checkRegion, SlideOpenError, SlideReadError, type SlideReader } from './types';
import type { RgbImage, Size } from '../shared/image';

export async function openPlainImage(path: string): Promise<PlainImageReader> {
  await assertReadableFile(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new SlideOpenError(path, (err as Error).message);
  }
  try {
    const format = isBmp(bytes) ? 'bmp' : (await checkedImageHeader(bytes)).format;
    return new PlainImageReader(path, format, await decodeImageBytes(bytes, path));
  } catch (err) {
    const reason = err instanceof ImageDecodeError ? err.message.slice(path.length + 2) : decoderReason(err);
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
    pixels: RgbImage,
  ) {
    this.pixels = pixels;
    this.dimensions = [pixels.width, pixels.height];
    this.levelDimensions = [this.dimensions];
  }

  async readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage> {
    checkRegion(this, level, x0, y0, w, h);
    const [W, H] = this.dimensions;
    const left = Math.max(0, x0);
    const top = Math.max(0, y0);
    const right = Math.min(W, x0 + w);
    const bottom = Math.min(H, y0 + h);
    const src = this.pixels;
    if (!src) throw new SlideReadError(this.path, 'image is closed');
    const out = solid(w, h, this.background);
    if (right <= left || bottom <= top) return out;
    for (let y = top; y < bottom; y++) {
      const from = (y * W + left) * 3;
      out.data.set(src.data.subarray(from, from + (right - left) * 3), ((y - y0) * w + (left - x0)) * 3);
    }
    return out;
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    throw new SlideReadError(this.path, `no associated image named '${name}'`);
  }

  close(): void {
    this.pixels = null;
  }
}
