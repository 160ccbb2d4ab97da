// The one interface every slide reader implements (OpenSlide, sharp/libvips, plain image),
// and the expected failures of opening and reading slides, as values with a kind.
import type { RgbImage, Size } from '../shared/image';
import { MAX_REGION_PIXELS } from './pixelLimits';

export type ReaderName = 'openslide' | 'sharp' | 'image';

export interface Mpp {
  /** Microns per level-0 pixel along x and y. */
  x: number;
  y: number;
}

export interface SlideReader {
  readonly path: string;
  readonly readerName: ReaderName;
  /** Level-0 (width, height). */
  readonly dimensions: Size;
  readonly levelCount: number;
  readonly levelDimensions: readonly Size[];
  readonly levelDownsamples: readonly number[];
  readonly mpp: Mpp | null;
  /** OpenSlide's vendor name ('aperio', 'hamamatsu', 'generic-tiff', ...), or the image format for plain images. */
  readonly vendor: string | null;
  readonly objectivePower: number | null;
  /** RGB the slide is composited on where it is transparent or outside its bounds. */
  readonly background: readonly [number, number, number];
  /** Vendor metadata (OpenSlide property names where the reader is OpenSlide). */
  readonly properties: Readonly<Record<string, string>>;
  /** Names of associated images ('thumbnail', 'label', 'macro', ...). */
  readonly associatedImageNames: readonly string[];
  /**
   * RGB pixels of a region, OpenSlide's read_region semantics: (x0, y0) is the top-left in
   * level-0 pixels, (w, h) the size in pixels of `level`. Areas outside the slide are background.
   */
  readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage>;
  readAssociatedImage(name: string): Promise<RgbImage>;
  /** Release native handles. Reads still in flight finish first; reads after close reject. */
  close(): void;
}

/** A file no reader could open (missing, unsupported format, corrupt). */
export class SlideOpenError extends Error {
  readonly kind = 'unreadable-slide';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot open slide ${path}: ${reason}`);
  }
}

/** A slide that opened but failed while reading pixels (truncated file, bad tile). */
export class SlideReadError extends Error {
  readonly kind = 'slide-read-failed';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot read from slide ${path}: ${reason}`);
  }
}

/** Level, region size and requested box checked before any native call (a bad one is the caller's bug). */
export function checkRegion(reader: Pick<SlideReader, 'levelCount'>, level: number, x0: number, y0: number, w: number, h: number): void {
  if (!Number.isInteger(level) || level < 0 || level >= reader.levelCount) throw new RangeError(`invalid level ${level}`);
  for (const [name, v] of [
    ['x0', x0],
    ['y0', y0],
  ] as const)
    if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer, got ${v}`);
  for (const [name, v] of [
    ['w', w],
    ['h', h],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  // Far beyond any tile or patch; overviews and thumbnails of larger levels are read in bands.
  if (w * h > MAX_REGION_PIXELS) throw new RangeError(`region ${w}x${h} is too large to read at once`);
}

/** 'rrggbb' (OpenSlide's background-color property) to RGB; white when absent or malformed. */
export function parseBackground(hex: string | undefined): [number, number, number] {
  if (!hex || !/^[0-9a-fA-F]{6}$/.test(hex)) return [255, 255, 255];
  const n = parseInt(hex, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function positiveNumber(s: string | undefined): number | null {
  if (s === undefined) return null;
  const v = Number(s);
  return Number.isFinite(v) && v > 0 ? v : null;
}
