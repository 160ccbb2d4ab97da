// The shapes the cell detector reads and writes. Structural on purpose: the library imports
// nothing from the application, so any slide reader with OpenSlide's read_region semantics fits.

/** Interleaved RGB, row-major, 3 bytes per pixel (the project's image type). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** {width, height}, or the [width, height] tuple the application's readers use. */
export type SizeLike = { readonly width: number; readonly height: number } | readonly [number, number];

export interface Mpp {
  /** Microns per level-0 pixel along x and y. */
  x: number;
  y: number;
}

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

/** One nucleus. Every coordinate is in level-0 pixels, whatever level it was found at. */
export interface CellDetection {
  x: number;
  y: number;
  /** Bounding box, level-0 pixels (x, y top-left; w, h size). */
  box: { x: number; y: number; w: number; h: number };
  /** Simplified outline, closed implicitly, level-0 pixels; absent when outlines are off. */
  outline?: Array<[number, number]>;
  /** Area in pixels of the detection level, and in square micrometres. */
  areaPx: number;
  areaUm2: number;
  /** Mean haematoxylin optical density over the nucleus (not background-subtracted). */
  meanOd: number;
  /** 4 pi area / perimeter^2: 1 for a disk, lower for ragged or elongated shapes. */
  circularity: number;
}

/** What a caller stores to resume a tiled run; resuming checks it describes the same run. */
export interface DetectionCheckpoint {
  detectorVersion: string;
  level: number;
  tileSize: number;
  overlap: number;
  tilesTotal: number;
  /** Tiles [0, nextTile) are finished (their detections were reported through onTile). */
  nextTile: number;
  /** Glass colour the run converted RGB to OD with; a resumed run reuses it. */
  white?: readonly [number, number, number];
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
