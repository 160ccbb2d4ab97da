// Draws every label box, the box being drawn or moved, and the scale bar on one canvas
// over the viewer: a single layer, redrawn per frame, so thousands of boxes stay smooth.
import { scaleBar } from '@shared/boxGeometry';
import type { Box } from '@shared/image';

export interface OverlayBox {
  id: number;
  box: Box;
  color: string;
}

/** A classified patch drawn as a translucent tile (the heatmap). */
export interface HeatCell {
  box: Box;
  color: string;
  /** 0..1, multiplied by the layer opacity. */
  alpha: number;
}

/** A layer another feature draws (detected cells): between the heatmap and the label boxes. */
export type OverlayLayer = (ctx: CanvasRenderingContext2D, width: number, height: number, t: ViewTransform) => void;

export interface OverlayState {
  heat?: { cells: HeatCell[]; opacity: number; highlight: Box | null };
  layers?: OverlayLayer[];
  boxes: OverlayBox[];
  selectedId: number | null;
  /** The box being drawn or moved, in level-0 pixels. */
  draft: { box: Box; color: string } | null;
  mpp: number | null;
}

/** Screen position of level-0 pixel (0,0) and screen pixels per level-0 pixel (no rotation). */
export interface ViewTransform {
  originX: number;
  originY: number;
  scale: number;
}

export function drawOverlay(ctx: CanvasRenderingContext2D, width: number, height: number, t: ViewTransform, state: OverlayState): void {
  ctx.clearRect(0, 0, width, height);
  if (state.heat) drawHeat(ctx, width, height, t, state.heat);
  for (const layer of state.layers ?? []) layer(ctx, width, height, t);
  const lineWidth = 2;
  for (const b of state.boxes) {
    const x = t.originX + b.box.x * t.scale;
    const y = t.originY + b.box.y * t.scale;
    const w = b.box.w * t.scale;
    const h = b.box.h * t.scale;
    if (x > width || y > height || x + w < 0 || y + h < 0) continue; // off screen
    const selected = b.id === state.selectedId;
    ctx.strokeStyle = b.color;
    ctx.lineWidth = selected ? lineWidth * 2 : lineWidth;
    if (w < 3) {
      // Far zoomed out a box is a dot: still visible, still cheap.
      ctx.fillStyle = b.color;
      ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
      continue;
    }
    ctx.strokeRect(x, y, w, h);
    if (selected) {
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = 'white';
      ctx.lineWidth = 1;
      ctx.strokeRect(x - 3, y - 3, w + 6, h + 6);
      ctx.setLineDash([]);
    }
  }
  if (state.draft) {
    const { box, color } = state.draft;
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.strokeRect(t.originX + box.x * t.scale, t.originY + box.y * t.scale, box.w * t.scale, box.h * t.scale);
    ctx.setLineDash([]);
  }
  if (state.mpp) drawScaleBar(ctx, height, scaleBar(state.mpp, t.scale));
}

function drawScaleBar(ctx: CanvasRenderingContext2D, height: number, bar: { pixels: number; label: string }): void {
  const x = 16;
  const y = height - 22;
  ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.fillRect(x - 6, y - 18, bar.pixels + 12, 30);
  ctx.fillStyle = '#1d2330';
  ctx.fillRect(x, y, bar.pixels, 4);
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText(bar.label, x, y - 5);
}

function drawHeat(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  t: ViewTransform,
  heat: NonNullable<OverlayState['heat']>,
): void {
  for (const c of heat.cells) {
    const x = t.originX + c.box.x * t.scale;
    const y = t.originY + c.box.y * t.scale;
    const w = c.box.w * t.scale;
    const h = c.box.h * t.scale;
    if (x > width || y > height || x + w < 0 || y + h < 0) continue;
    ctx.globalAlpha = Math.max(0, Math.min(1, c.alpha * heat.opacity));
    ctx.fillStyle = c.color;
    ctx.fillRect(x, y, w, h);
  }
  ctx.globalAlpha = 1;
  if (heat.highlight) {
    const b = heat.highlight;
    ctx.strokeStyle = '#ffe14d';
    ctx.lineWidth = 3;
    ctx.strokeRect(t.originX + b.x * t.scale - 2, t.originY + b.y * t.scale - 2, b.w * t.scale + 4, b.h * t.scale + 4);
  }
}
