// The tile grid of a detection run. Each tile owns a core (the grid cell) and is read with an
// overlap on every side, so a nucleus cut by the core's edge is still whole in the read region;
// a detection is kept only by the tile whose core holds its centroid, so none is found twice.

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface TilePlan {
  level: number;
  downsample: number;
  /** Size of the level, its pixels. */
  levelWidth: number;
  levelHeight: number;
  tileSize: number;
  overlap: number;
  cols: number;
  rows: number;
  count: number;
}

export interface Tile {
  /** Row-major index: the order tiles are processed in, and what a checkpoint records. */
  index: number;
  /** Core and read area in pixels of the plan's level (x1, y1 exclusive). */
  core: Rect;
  read: Rect;
}

export function planTiles(
  level: number,
  downsample: number,
  levelWidth: number,
  levelHeight: number,
  tileSize: number,
  overlap: number,
): TilePlan {
  const cols = Math.max(1, Math.ceil(levelWidth / tileSize));
  const rows = Math.max(1, Math.ceil(levelHeight / tileSize));
  return { level, downsample, levelWidth, levelHeight, tileSize, overlap, cols, rows, count: cols * rows };
}

export function tileAt(plan: TilePlan, index: number): Tile {
  if (!Number.isInteger(index) || index < 0 || index >= plan.count) throw new RangeError(`tile ${index} is outside 0..${plan.count - 1}`);
  const col = index % plan.cols;
  const row = Math.floor(index / plan.cols);
  const core = {
    x0: col * plan.tileSize,
    y0: row * plan.tileSize,
    x1: Math.min(plan.levelWidth, (col + 1) * plan.tileSize),
    y1: Math.min(plan.levelHeight, (row + 1) * plan.tileSize),
  };
  const read = {
    x0: Math.max(0, core.x0 - plan.overlap),
    y0: Math.max(0, core.y0 - plan.overlap),
    x1: Math.min(plan.levelWidth, core.x1 + plan.overlap),
    y1: Math.min(plan.levelHeight, core.y1 + plan.overlap),
  };
  return { index, core, read };
}
