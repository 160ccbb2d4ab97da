// Draws detected cells over the slide: far out a dot per cell, zoomed in its outline; the
// preview's outlines dashed; the selected cell ringed. Level-0 coordinates through the view
// transform, off-screen cells skipped, so thousands stay smooth.
import type { DetectedCell } from '@shared/cells';

/** Screen position of level-0 (0,0) and screen px per level-0 px (as the viewer's overlay). */
export interface CellViewTransform {
  originX: number;
  originY: number;
  scale: number;
}

export interface CellLayerState {
  cells: readonly (DetectedCell & { id?: number })[];
  preview: readonly DetectedCell[] | null;
  selected: (DetectedCell & { id?: number }) | null;
}

const CELL = '#00e5ff';
const PREVIEW = '#ffd400';

function trace(ctx: CanvasRenderingContext2D, c: DetectedCell, t: CellViewTransform): void {
  ctx.beginPath();
  if (c.outline && c.outline.length > 2) {
    c.outline.forEach(([x, y], i) => {
      const sx = t.originX + x * t.scale;
      const sy = t.originY + y * t.scale;
      if (i === 0) ctx.moveTo(sx, sy);
      else ctx.lineTo(sx, sy);
    });
    ctx.closePath();
  } else {
    const r = (Math.max(c.box.w, c.box.h) / 2) * t.scale;
    ctx.arc(t.originX + c.x * t.scale, t.originY + c.y * t.scale, Math.max(r, 2), 0, 2 * Math.PI);
  }
}

function visible(c: DetectedCell, t: CellViewTransform, width: number, height: number): boolean {
  const x = t.originX + c.box.x * t.scale;
  const y = t.originY + c.box.y * t.scale;
  return !(x > width || y > height || x + c.box.w * t.scale < 0 || y + c.box.h * t.scale < 0);
}

function drawSet(ctx: CanvasRenderingContext2D, cells: readonly DetectedCell[], t: CellViewTransform, w: number, h: number, color: string) {
  // A nucleus under ~6 screen px has no readable outline: a dot says "a cell is here".
  const dots = cells.length > 0 && Math.max(cells[0].box.w, cells[0].box.h) * t.scale < 6;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.5;
  for (const c of cells) {
    if (!visible(c, t, w, h)) continue;
    if (dots) {
      ctx.fillRect(t.originX + c.x * t.scale - 1.5, t.originY + c.y * t.scale - 1.5, 3, 3);
      continue;
    }
    trace(ctx, c, t);
    ctx.stroke();
  }
}

export function drawCellLayer(ctx: CanvasRenderingContext2D, width: number, height: number, t: CellViewTransform, s: CellLayerState): void {
  if (s.cells.length) drawSet(ctx, s.cells, t, width, height, CELL);
  if (s.preview?.length) {
    ctx.setLineDash([4, 3]);
    drawSet(ctx, s.preview, t, width, height, PREVIEW);
    ctx.setLineDash([]);
  }
  if (s.selected) {
    const c = s.selected;
    const r = Math.max(10, (Math.max(c.box.w, c.box.h) / 2) * t.scale + 6);
    ctx.strokeStyle = 'white';
    ctx.lineWidth = 4;
    ctx.beginPath();
    ctx.arc(t.originX + c.x * t.scale, t.originY + c.y * t.scale, r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.strokeStyle = '#ff2d95';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
}

/** The cell nearest to `p` within reach of a click: its nucleus, or `slackPx` screen px of it. */
export function cellNear<C extends DetectedCell>(cells: readonly C[], p: { x: number; y: number }, scale: number, slackPx = 10): C | null {
  let best: C | null = null;
  let bestD = Infinity;
  for (const c of cells) {
    const d = Math.hypot(c.x - p.x, c.y - p.y);
    const reach = Math.max(c.box.w, c.box.h) / 2 + slackPx / Math.max(scale, 1e-6);
    if (d <= reach && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
