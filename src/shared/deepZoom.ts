// Deep Zoom maths, a line-by-line port of openslide-python's DeepZoomGenerator
// (openslide/deepzoom.py, identical in 1.2.0 and the current main branch), so the viewer's
// tile pyramid is exactly the one OpenSlide users know. Pure TypeScript: used by the tile
// service in main and, for addressing, by the renderer.
//
// Four coordinate planes, named as in the original:
//   t_  column/row of a tile within a Deep Zoom level
//   z_  pixel within a Deep Zoom level
//   l_  pixel within a slide level
//   l0_ pixel within slide level 0
// Deep Zoom level 0 is 1x1 pixel; the last level is the full slide (or its bounded area).
import type { Size } from './image';

/** What the maths needs to know about a slide (any reader gives this). */
export interface SlideGeometry {
  /** (width, height) of every slide level, level 0 first. */
  levelDimensions: readonly Size[];
  /** Downsample of every slide level relative to level 0 (1 for level 0). */
  levelDownsamples: readonly number[];
  /** Non-empty area in level-0 pixels (OpenSlide's openslide.bounds-* properties), used with limitBounds. */
  bounds?: { x?: number; y?: number; width?: number; height?: number };
}

export interface DeepZoomOptions {
  /** Tile width and height without overlap (default 254, so tile + 2 * overlap = 256). */
  tileSize?: number;
  /** Extra pixels on each interior edge of a tile (default 1). */
  overlap?: number;
  /** Render only the non-empty slide area (default false, as in openslide-python). */
  limitBounds?: boolean;
}

export interface DeepZoomLayout {
  readonly tileSize: number;
  readonly overlap: number;
  readonly limitBounds: boolean;
  readonly levelCount: number;
  /** (width, height) in pixels of every Deep Zoom level, smallest first. */
  readonly levelDimensions: readonly Size[];
  /** (columns, rows) of tiles of every Deep Zoom level. */
  readonly levelTiles: readonly Size[];
  readonly tileCount: number;
  /** Slide level read for every Deep Zoom level. */
  readonly slideLevelForDzLevel: readonly number[];
  /** Downsample from the chosen slide level to the Deep Zoom level, per Deep Zoom level. */
  readonly levelToDzDownsample: readonly number[];
  /** Slide level dimensions of the (bounded) active area. */
  readonly activeLevelDimensions: readonly Size[];
  readonly l0Offset: Size;
  readonly slideLevelDownsamples: readonly number[];
}

/** Arguments for a slide read_region() plus the final tile size, as get_tile_coordinates() + get_tile_dimensions(). */
export interface TileRegion {
  level: number;
  col: number;
  row: number;
  /** Top-left of the region in level-0 pixels. */
  l0Location: Size;
  /** Slide level to read from. */
  slideLevel: number;
  /** Region size in pixels of that slide level. */
  levelSize: Size;
  /** Output tile size (includes the overlap on interior edges). */
  tileSize: Size;
}

/** openslide_get_best_level_for_downsample() of OpenSlide 3.4.1: the largest level not coarser than asked. */
export function bestLevelForDownsample(levelDownsamples: readonly number[], downsample: number): number {
  if (downsample < levelDownsamples[0]) return 0;
  for (let i = 1; i < levelDownsamples.length; i++) {
    if (downsample < levelDownsamples[i]) return i - 1;
  }
  return levelDownsamples.length - 1;
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

export function createDeepZoom(slide: SlideGeometry, options: DeepZoomOptions = {}): DeepZoomLayout {
  const tileSize = positiveInteger('tileSize', options.tileSize ?? 254, 1);
  const overlap = positiveInteger('overlap', options.overlap ?? 1, 0);
  const limitBounds = options.limitBounds ?? false;
  if (slide.levelDimensions.length === 0 || slide.levelDimensions.length !== slide.levelDownsamples.length) {
    throw new RangeError('a slide needs at least one level and one downsample per level');
  }
  const l0Dims = slide.levelDimensions[0];

  let activeLevelDimensions: readonly Size[] = slide.levelDimensions;
  let l0Offset: Size = [0, 0];
  if (limitBounds) {
    const b = slide.bounds ?? {};
    // Python: int(props.get(...)) truncates, then scale = bound / level-0 size, ceil per level.
    l0Offset = [Math.trunc(b.x ?? 0), Math.trunc(b.y ?? 0)];
    const scale: Size = [Math.trunc(b.width ?? l0Dims[0]) / l0Dims[0], Math.trunc(b.height ?? l0Dims[1]) / l0Dims[1]];
    activeLevelDimensions = slide.levelDimensions.map(([w, h]) => [Math.ceil(w * scale[0]), Math.ceil(h * scale[1])] as Size);
  }

  // Halve (rounding up) down to 1x1.
  let z: Size = activeLevelDimensions[0];
  const zDims: Size[] = [z];
  while (z[0] > 1 || z[1] > 1) {
    z = [Math.max(1, Math.ceil(z[0] / 2)), Math.max(1, Math.ceil(z[1] / 2))];
    zDims.push(z);
  }
  const levelDimensions = zDims.reverse();
  const levelTiles = levelDimensions.map(([w, h]) => [Math.ceil(w / tileSize), Math.ceil(h / tileSize)] as Size);
  const levelCount = levelDimensions.length;
  const l0ToDz = levelDimensions.map((_, dz) => 2 ** (levelCount - dz - 1));
  const slideLevelForDzLevel = l0ToDz.map((d) => bestLevelForDownsample(slide.levelDownsamples, d));
  const levelToDzDownsample = l0ToDz.map((d, dz) => d / slide.levelDownsamples[slideLevelForDzLevel[dz]]);

  return {
    tileSize,
    overlap,
    limitBounds,
    levelCount,
    levelDimensions,
    levelTiles,
    tileCount: levelTiles.reduce((n, [c, r]) => n + c * r, 0),
    slideLevelForDzLevel,
    levelToDzDownsample,
    activeLevelDimensions,
    l0Offset,
    slideLevelDownsamples: slide.levelDownsamples,
  };
}

/** True when (level, col, row) addresses a tile of the layout (integers, in range). */
export function isValidTile(layout: DeepZoomLayout, level: number, col: number, row: number): boolean {
  if (!Number.isInteger(level) || level < 0 || level >= layout.levelCount) return false;
  const [cols, rows] = layout.levelTiles[level];
  return Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < cols && row < rows;
}

/** _get_tile_info(): the region to read and the output size, or null for an address outside the pyramid. */
export function tileRegion(layout: DeepZoomLayout, level: number, col: number, row: number): TileRegion | null {
  if (!isValidTile(layout, level, col, row)) return null;
  const { tileSize, overlap } = layout;
  const slideLevel = layout.slideLevelForDzLevel[level];
  const lzDown = layout.levelToDzDownsample[level];
  const l0lDown = layout.slideLevelDownsamples[slideLevel];
  const t = [col, row];
  const tiles = layout.levelTiles[level];
  const zLim = layout.levelDimensions[level];
  const lLim = layout.activeLevelDimensions[slideLevel];

  const axis = (i: 0 | 1) => {
    const tl = overlap * (t[i] !== 0 ? 1 : 0);
    const br = overlap * (t[i] !== tiles[i] - 1 ? 1 : 0);
    const zSize = Math.min(tileSize, zLim[i] - tileSize * t[i]) + tl + br;
    const l = lzDown * (tileSize * t[i] - tl);
    // Round location down and size up (Python int() truncates toward zero).
    const l0 = Math.trunc(l0lDown * l + layout.l0Offset[i]);
    const lSize = Math.trunc(Math.min(Math.ceil(lzDown * zSize), lLim[i] - Math.ceil(l)));
    return { zSize, l0, lSize };
  };
  const x = axis(0);
  const y = axis(1);
  return {
    level,
    col,
    row,
    l0Location: [x.l0, y.l0],
    slideLevel,
    levelSize: [x.lSize, y.lSize],
    tileSize: [x.zSize, y.zSize],
  };
}

/** The .dzi descriptor, byte for byte as get_dzi(format). Size is the (bounded) level-0 size. */
export function dziXml(layout: DeepZoomLayout, format: 'jpeg' | 'png' = 'jpeg'): string {
  const [w, h] = layout.activeLevelDimensions[0];
  return (
    `<Image TileSize="${layout.tileSize}" Overlap="${layout.overlap}" Format="${format}" ` +
    `xmlns="http://schemas.microsoft.com/deepzoom/2008"><Size Width="${w}" Height="${h}" /></Image>`
  );
}

/** Every tile address of the pyramid, smallest level first (benchmarks, prefetch, tests). */
export function* allTiles(layout: DeepZoomLayout): Generator<{ level: number; col: number; row: number }> {
  for (let level = 0; level < layout.levelCount; level++) {
    const [cols, rows] = layout.levelTiles[level];
    for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) yield { level, col, row };
  }
}
