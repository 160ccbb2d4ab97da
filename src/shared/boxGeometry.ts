import type { Box } from './image';
// Geometry of label boxes in level-0 pixels, shared by the viewer overlay and tests.

export interface Point {
  x: number;
  y: number;
}

/** A square of `size` centred on `p`, kept inside the image when the image is larger than it. */
export function boxAround(p: Point, size: number, imageWidth: number, imageHeight: number): Box {
  const clamp = (v: number, max: number) => (max <= 0 ? v : Math.min(Math.max(v, 0), max));
  return {
    x: Math.round(clamp(p.x - size / 2, imageWidth - size)),
    y: Math.round(clamp(p.y - size / 2, imageHeight - size)),
    w: size,
    h: size,
  };
}

/** The box spanned by a drag from `a` to `b`, whatever the direction. */
export function boxFromDrag(a: Point, b: Point): Box {
  return {
    x: Math.round(Math.min(a.x, b.x)),
    y: Math.round(Math.min(a.y, b.y)),
    w: Math.round(Math.abs(b.x - a.x)),
    h: Math.round(Math.abs(b.y - a.y)),
  };
}

export function contains(box: Box, p: Point): boolean {
  return p.x >= box.x && p.x <= box.x + box.w && p.y >= box.y && p.y <= box.y + box.h;
}

/** The smallest box under `p` (nested or overlapping boxes: the innermost wins), or undefined. */
export function hitTest<T extends { box: Box }>(items: readonly T[], p: Point): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (contains(item.box, p) && (!best || item.box.w * item.box.h < best.box.w * best.box.h)) best = item;
  }
  return best;
}

export function translate(box: Box, dx: number, dy: number): Box {
  return { ...box, x: Math.round(box.x + dx), y: Math.round(box.y + dy) };
}

const niceMicrons = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/**
 * The scale bar for a view: the largest "nice" length (µm) whose bar fits in `maxPixels`
 * on screen, given level-0 microns per pixel and screen pixels per level-0 pixel.
 */
export function scaleBar(mpp: number, screenPerImagePixel: number, maxPixels = 160): { microns: number; pixels: number; label: string } {
  const micronsPerScreenPixel = mpp / screenPerImagePixel;
  let microns = niceMicrons[0];
  for (const m of niceMicrons) if (m / micronsPerScreenPixel <= maxPixels) microns = m;
  return { microns, pixels: microns / micronsPerScreenPixel, label: microns >= 1000 ? `${microns / 1000} mm` : `${microns} µm` };
}
