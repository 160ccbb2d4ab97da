// Whole-slide nucleus detection, tile by tile at one pyramid level. Memory stays at two tiles
// of pixels (the one being detected and the next one being read) plus the per-tile planes;
// detections are reported per finished tile, so a caller can store them and resume after a
// cancel or a crash from the checkpoint's `nextTile`.
import { detectInImage } from './detectImage';
import { estimateWhite, foregroundTiles, readOverview } from './foreground';
import { checkParams, DETECTOR_VERSION, PAP_LBC_PRESET, toPixelParams, type DetectionParams, type PixelParams } from './params';
import { channelLuts, haematoxylinLuts, odSumLuts, type Rgb3 } from './stains';
import { planTiles, tileAt, type Tile, type TilePlan } from './tiles';
import { CellDetectionError, sizeOf, type CellDetection, type DetectionCheckpoint, type RegionSource, type RgbImage } from './types';

export type { DetectionCheckpoint } from './types';
import { Workspace } from './workspace';

export interface DetectionProgress {
  tilesDone: number;
  tilesTotal: number;
  tilesSkipped: number;
  /** Detections found so far in this run (not counting tiles before `resumeFrom`). */
  cells: number;
  checkpoint: DetectionCheckpoint;
}

export interface DetectCellsOptions {
  /** Pyramid level to detect at (default 0). */
  level?: number;
  /** Core size of a tile in pixels of `level` (default 1024). */
  tileSize?: number;
  /** Overlap read around each core, pixels of `level`; at least one max nucleus diameter (the default adds smoothing margin). */
  overlap?: number;
  signal?: AbortSignal;
  /** After every tile (tiles take tens of milliseconds, which is throttle enough). */
  onProgress?: (p: DetectionProgress) => void;
  /** The detections of each finished tile, before the checkpoint moves past it. */
  onTile?: (tileIndex: number, detections: CellDetection[]) => void;
  /** Continue a run: only tiles from `nextTile` on are processed and returned. */
  resumeFrom?: DetectionCheckpoint;
  /** Skip tiles with nothing stained on a coarse level (default true). */
  skipBackground?: boolean;
  /** Glass colour; default: the checkpoint's when resuming, else estimated once from the overview (or the middle tile). */
  white?: Rgb3;
  /** Also collect every detection in the result (default true); false when onTile stores them, to keep memory flat. */
  returnDetections?: boolean;
}

export interface DetectCellsResult {
  detections: CellDetection[];
  tilesTotal: number;
  tilesSkipped: number;
  level: number;
  downsample: number;
  umPerPx: number;
  /** The slide has no mpp: sizes assumed `fallbackMppUm`, so micrometre values are estimates. */
  mppAssumed: boolean;
  white: Rgb3;
  detectorVersion: string;
  checkpoint: DetectionCheckpoint;
}

function fail(kind: 'invalid-options' | 'invalid-params', message: string): never {
  throw new CellDetectionError(kind, message);
}

function checkLevel(source: RegionSource, o: DetectCellsOptions): number {
  const level = o.level ?? 0;
  if (!Number.isInteger(level) || level < 0 || level >= source.levelCount)
    fail('invalid-options', `Pyramid level ${level} does not exist: this slide has levels 0-${source.levelCount - 1}.`);
  return level;
}

function checkTiling(px: PixelParams, o: DetectCellsOptions): { tileSize: number; overlap: number } {
  const tileSize = o.tileSize ?? 1024;
  if (!Number.isInteger(tileSize) || tileSize < 64 || tileSize > 8192)
    fail('invalid-options', `Tile size ${tileSize} must be a whole number of pixels between 64 and 8192.`);
  const minOverlap = Math.ceil(px.maxDiameterPx);
  const overlap = o.overlap ?? Math.ceil(px.maxDiameterPx + 4 * px.sigmaPx);
  if (!Number.isInteger(overlap) || overlap < minOverlap)
    fail(
      'invalid-options',
      `Tile overlap ${overlap} px is below the largest nucleus (${minOverlap} px at this level): nuclei on tile borders would be cut.`,
    );
  return { tileSize, overlap };
}

function checkResume(cp: DetectionCheckpoint | undefined, plan: TilePlan): number {
  if (!cp) return 0;
  const same =
    cp.detectorVersion === DETECTOR_VERSION &&
    cp.level === plan.level &&
    cp.tileSize === plan.tileSize &&
    cp.overlap === plan.overlap &&
    cp.tilesTotal === plan.count;
  if (!same)
    fail(
      'invalid-options',
      'This checkpoint belongs to a different detection run (detector version, level or tiling changed): start the detection again.',
    );
  if (!Number.isInteger(cp.nextTile) || cp.nextTile < 0 || cp.nextTile > plan.count)
    fail('invalid-options', `Checkpoint tile ${cp.nextTile} is outside 0..${plan.count}.`);
  return cp.nextTile;
}

export async function detectCells(
  source: RegionSource,
  params: Partial<DetectionParams> = PAP_LBC_PRESET,
  o: DetectCellsOptions = {},
): Promise<DetectCellsResult> {
  const checked = checkParams(params);
  if (!checked.ok) fail('invalid-params', checked.message);
  const level = checkLevel(source, o);
  const ds = source.levelDownsamples[level];
  const conv = toPixelParams(checked.params, source.mpp, ds);
  if (!conv.ok) fail('invalid-params', conv.message);
  const px = conv.px;
  const { tileSize, overlap } = checkTiling(px, o);
  const { width: lw, height: lh } = sizeOf(source.levelDimensions[level]);
  const plan = planTiles(level, ds, lw, lh, tileSize, overlap);
  const start = checkResume(o.resumeFrom, plan);
  let white: Rgb3 | undefined = o.white ?? o.resumeFrom?.white;
  const checkpoint = (nextTile: number): DetectionCheckpoint => ({
    detectorVersion: DETECTOR_VERSION,
    level,
    tileSize,
    overlap,
    tilesTotal: plan.count,
    nextTile,
    ...(white ? { white } : {}),
  });
  const cancelled = (nextTile: number): CellDetectionError =>
    new CellDetectionError(
      'cancelled',
      `Cell detection was cancelled after ${nextTile} of ${plan.count} tiles; it can resume from there.`,
      checkpoint(nextTile),
    );
  if (o.signal?.aborted) throw cancelled(start);

  const overview = o.skipBackground === false && white ? null : await readOverview(source, level);
  const read = async (t: Tile): Promise<RgbImage> => {
    try {
      return await source.readRegion(
        level,
        Math.round(t.read.x0 * ds),
        Math.round(t.read.y0 * ds),
        t.read.x1 - t.read.x0,
        t.read.y1 - t.read.y0,
      );
    } catch (err) {
      throw new CellDetectionError(
        'read-failed',
        `Could not read tile ${t.index + 1} of ${plan.count} from the slide: ${(err as Error).message}`,
        checkpoint(t.index),
      );
    }
  };
  white ??= overview ? estimateWhite(overview.image) : estimateWhite(await read(tileAt(plan, Math.floor(plan.count / 2))));
  const wanted = o.skipBackground !== false && overview ? foregroundTiles(plan, overview, white) : null;
  const luts = channelLuts(px.channel, px.stainVectors, white);
  const tables = { haematoxylin: haematoxylinLuts(px.stainVectors, white), odSum: odSumLuts(white) };
  const ws = new Workspace();

  const detections: CellDetection[] = [];
  let cells = 0;
  let skipped = 0;
  const todo: number[] = [];
  for (let t = start; t < plan.count; t++) todo.push(t);
  // Read-ahead of one tile: libvips decodes the next JPEG tiles on its threads while we detect.
  const fetch = (k: number): Promise<RgbImage> | null =>
    k < todo.length && (!wanted || wanted[todo[k]]) ? read(tileAt(plan, todo[k])) : null;
  let pending = fetch(0);
  pending?.catch(() => undefined); // handled when awaited
  for (let k = 0; k < todo.length; k++) {
    const tile = tileAt(plan, todo[k]);
    if (o.signal?.aborted) throw cancelled(tile.index);
    const current = pending;
    pending = fetch(k + 1);
    pending?.catch(() => undefined);
    let found: CellDetection[] = [];
    if (current === null) skipped++;
    else {
      const img = await current;
      if (o.signal?.aborted) throw cancelled(tile.index);
      found = detectInImage(img, px, {
        luts,
        tables,
        workspace: ws,
        originX: tile.read.x0,
        originY: tile.read.y0,
        core: {
          x0: tile.core.x0 - tile.read.x0,
          y0: tile.core.y0 - tile.read.y0,
          x1: tile.core.x1 - tile.read.x0,
          y1: tile.core.y1 - tile.read.y0,
        },
      });
    }
    if (o.returnDetections !== false) for (const d of found) detections.push(d);
    cells += found.length;
    o.onTile?.(tile.index, found);
    o.onProgress?.({
      tilesDone: tile.index + 1,
      tilesTotal: plan.count,
      tilesSkipped: skipped,
      cells,
      checkpoint: checkpoint(tile.index + 1),
    });
  }
  const finalWhite: Rgb3 = white;
  return {
    detections,
    tilesTotal: plan.count,
    tilesSkipped: skipped,
    level,
    downsample: ds,
    umPerPx: px.umPerPx,
    mppAssumed: px.mppAssumed,
    white: finalWhite,
    detectorVersion: DETECTOR_VERSION,
    checkpoint: checkpoint(plan.count),
  };
}
