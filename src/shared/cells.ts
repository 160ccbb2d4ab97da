// Cells, cytology's unit: what detection finds on a slide, how a detection run is recorded so a
// re-run with other parameters is a new, comparable result, and how slides are reviewed.
import type { Box } from './image';

/** One detected nucleus, in level-0 pixels of its image. */
export interface DetectedCell {
  x: number;
  y: number;
  box: Box;
  /** Simplified outline polygon (closed implicitly), level-0 pixels; absent when outlines are off. */
  outline?: Array<[number, number]>;
  areaUm2: number;
  /** Mean haematoxylin optical density over the nucleus. */
  meanOd: number;
  /** 4 pi area / perimeter^2: 1 for a disk. */
  circularity: number;
}

/** Where a tiled detection stopped: tiles [0, nextTile) are stored; resuming checks the rest matches. */
export interface DetectionCheckpoint {
  detectorVersion: string;
  level: number;
  tileSize: number;
  overlap: number;
  tilesTotal: number;
  nextTile: number;
  /** Glass colour the run converted RGB to optical density with; a resumed run reuses it. */
  white?: readonly [number, number, number];
}

export type DetectionStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One run of the detector on one image: its version and parameters, and how far it got. */
export interface DetectionRun {
  id: number;
  imageId: number;
  detectorVersion: string;
  /** The detector's parameters in micrometres (slides/cells/params.ts), as given. */
  params: Record<string, unknown>;
  level: number;
  status: DetectionStatus;
  cellCount: number;
  checkpoint: DetectionCheckpoint | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A stored cell: its detection and, when a trained run classified it, that run's answer. */
export interface CellRecord extends DetectedCell {
  id: number;
  imageId: number;
  detectionRunId: number;
}

/** A cell as the gallery and the cell sorter show it: with its prediction, score and rank. */
export interface ScoredCell {
  cellId: number;
  imageId: number;
  predictionId: number;
  x: number;
  y: number;
  /** The level-0 box the model saw (cell-centred, at the training scale). */
  box: Box;
  classId: number;
  probabilities: number[];
  /** The chosen score (probability of the chosen classes, descendants included). */
  score: number;
  /** A label already given to this prediction (accepted or corrected), if any. */
  labelClassId: number | null;
}

export type SlideReviewStatus = 'not-classified' | 'classified' | 'reviewed';

/** One slide of the case list. */
export interface CaseSummary {
  imageId: number;
  name: string;
  cells: number;
  classifiedCells: number;
  /** Highest cell score, and cells at or above the threshold, for the chosen score. */
  maxScore: number | null;
  cellsAboveThreshold: number;
  status: SlideReviewStatus;
  note: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
}

/** A detector preset as the "Detect cells" form offers it, with its two main parameters. */
export interface DetectionPresetInfo {
  name: 'pap-lbc' | 'he-histology';
  label: string;
  nucleusDiameterUm: { min: number; max: number };
  minContrastOd: number;
}

/** Detection on one region (the viewer's current field), answered at once for tuning. */
export interface CellPreview {
  /** The region read, level-0 pixels (clipped to the image). */
  region: Box;
  level: number;
  cells: DetectedCell[];
  /** The slide records no microns per pixel: the detector's fallback was assumed. */
  mppAssumed: boolean;
  milliseconds: number;
}

/** The largest region cells:preview reads, in pixels of the detection level (about a 2000 x 2000 view). */
export const CELL_PREVIEW_MAX_PIXELS = 4_000_000;
