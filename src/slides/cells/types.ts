// The shapes the cell detector reads and writes. Cells, checkpoints and pixels are the shared
// types (re-exported for the detector's modules); what it reads is structural, so any slide
// reader with OpenSlide's read_region semantics fits.
import type { DetectedCell, DetectionCheckpoint } from '../../shared/cells';
import type { RgbImage } from '../../shared/image';
import type { Mpp } from '../types';

export type { RgbImage, Mpp, DetectionCheckpoint };

/** {width, height}, or the [width, height] tuple the application's readers use. */
export type SizeLike = { readonly width: number; readonly height: number } | readonly [number, number];

/** What the detector needs from a slide reader. */
export interface RegionSource {
  readonly dimensions: SizeLike;
  readonly levelCount: number;
  readonly levelDimensions: readonly SizeLike[];
  readonly levelDownsamples: readonly number[];
  readonly mpp: Mpp | null;
  /** (x0, y0) in level-0 pixels, (w, h) in pixels of `level`, as OpenSlide's read_region. */
  readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage>;
}

export function sizeOf(s: SizeLike): { width: number; height: number } {
  return Array.isArray(s) ? { width: s[0], height: s[1] } : (s as { width: number; height: number });
}

/** One nucleus (shared/cells.ts DetectedCell, level-0 pixels) and its area at the detection level. */
export interface CellDetection extends DetectedCell {
  areaPx: number;
}

export type CellDetectionErrorKind = 'cancelled' | 'invalid-params' | 'invalid-options' | 'read-failed';

/**
 * Expected failures of detection, each with a message a user can act on. Cancelled and
 * read-failed runs carry the checkpoint to resume from.
 */
export class CellDetectionError extends Error {
  constructor(
    readonly kind: CellDetectionErrorKind,
    message: string,
    readonly checkpoint?: DetectionCheckpoint,
  ) {
    super(message);
    this.name = 'CellDetectionError';
  }
}
