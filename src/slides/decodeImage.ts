// One entry point to turn an image file (PNG, JPEG, TIFF, BMP, WebP) into RGB pixels.
// Used by import (hash, size, thumbnail), the training data pipeline and patch extraction.
// The header is checked first (pixelLimits.ts): a pixel bomb or a vector file is refused with
// its reason before a single pixel is decoded.
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { decodeBmp, isBmp } from './bmp';
import type { RgbImage } from '../shared/image';
import { formatProblem, imageSizeProblem, plainImageInput } from './pixelLimits';
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

export interface ImageHeader {
  format: string;
  width: number;
  height: number;
}

/** Format and size from the header (no pixel decoded); throws an Error whose message is the reason. */
export async function checkedImageHeader(input: Uint8Array | string): Promise<ImageHeader> {
  const meta = await sharp(input, { ...plainImageInput, limitInputPixels: false }).metadata();
  const problem = formatProblem(meta.format) ?? imageSizeProblem(meta.width ?? 0, meta.height ?? 0);
  if (problem) throw new Error(problem);
  return { format: meta.format!, width: meta.width!, height: meta.height! };
}

/** Decode `bytes` (already read from `path`) to interleaved RGB. */
export async function decodeImageBytes(bytes: Uint8Array, path = '<memory>'): Promise<RgbImage> {
  try {
    if (isBmp(bytes)) return decodeBmp(bytes);
    await checkedImageHeader(bytes);
    return await toRgb(sharp(bytes, plainImageInput).removeAlpha());
  } catch (err) {
    throw new ImageDecodeError(path, withFallback(decoderReason(err), bytes));
  }
}

/** What the bytes look like, for a reason libvips left empty ("Input buffer has corrupt header:", "Unknown error"). */
function sniff(bytes: Uint8Array): string {
  const b = bytes;
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  const kind = starts(0x89, 0x50, 0x4e, 0x47)
    ? 'PNG'
    : starts(0xff, 0xd8)
      ? 'JPEG'
      : starts(0x49, 0x49, 0x2a) || starts(0x4d, 0x4d, 0, 0x2a)
        ? 'TIFF'
        : starts(0x52, 0x49, 0x46, 0x46)
          ? 'RIFF/WebP'
          : 'unrecognised';
  return `${kind} data of ${b.length} bytes`;
}

function withFallback(reason: string, bytes: Uint8Array): string {
  if (/corrupt header$/.test(reason)) return `${reason}: the file is truncated or damaged (${sniff(bytes)})`;
  if (/^unknown error$/i.test(reason) || /gave no reason/.test(reason))
    return `damaged image data (${sniff(bytes)}; the decoder gave no reason)`;
  return reason;
}

/**
 * libvips puts its reason on the lines after a summary ("Input buffer has corrupt header: " and
 * then "VipsForeignLoad: ..."): keep the summary with the first line that says something.
 */
export function decoderReason(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return 'unreadable (the decoder gave no reason)';
  const [first, ...rest] = lines;
  if (!/:$/.test(first) || rest.length === 0) return first.replace(/:$/, '');
  return `${first} ${rest[0]}`;
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
  try {
    await checkedImageHeader(bytes);
  } catch (err) {
    throw new ImageDecodeError(path, decoderReason(err));
  }
  return sharp(bytes, plainImageInput);
}
