// One entry point to turn an image file (PNG, JPEG, TIFF, BMP, WebP) into RGB pixels.
// Used by import (hash, size, thumbnail), the training data pipeline and patch extraction.
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { decodeBmp, isBmp } from './bmp';
import type { RgbImage } from '../shared/image';
import { fromRgb, toRgb } from './sharpRgb';

export class ImageDecodeError extends Error {
  readonly kind = 'unreadable-image';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Decode `bytes` (already read from `path`) to interleaved RGB. */
export async function decodeImageBytes(bytes: Uint8Array, path = '<memory>'): Promise<RgbImage> {
  try {
    if (isBmp(bytes)) return decodeBmp(bytes);
    return await toRgb(sharp(bytes, { failOn: 'error' }).removeAlpha());
  } catch (err) {
    throw new ImageDecodeError(path, (err as Error).message.split('\n')[0]);
  }
}

export async function decodeImage(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ImageDecodeError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message);
  }
  return decodeImageBytes(bytes, path);
}

/** A sharp pipeline over any supported image (BMP decoded by us first), for resizing and encoding. */
export async function sharpOf(bytes: Uint8Array, path = '<memory>'): Promise<Sharp> {
  if (isBmp(bytes)) {
    return fromRgb(await decodeImageBytes(bytes, path));
  }
  return sharp(bytes, { failOn: 'error' });
}
