// The one rule for where a label box may lie, checked at the API boundary, in the project and
// (as the same numbers in SQL, migration 6) by the database itself. A box is in level-0 pixels
// and must overlap its image; it may reach past the image's edges (a click near the edge of a
// 40 px cell crop drops a 224 px patch), but no side may exceed the larger of the image's own
// sides and LABEL_MAX_SIDE, so a label can never ask for more pixels than its image has or than
// one patch read may cost.
import type { Box } from './image';

/** The longest label side on a slide, and the least one on any image (8192 px ~ 2 mm at 40x). */
export const LABEL_MAX_SIDE = 8192;

export interface LabelledImage {
  kind: 'slide' | 'image';
  width: number;
  height: number;
}

export function maxLabelSide(image: LabelledImage): number {
  return image.kind === 'image' ? Math.max(image.width, image.height, LABEL_MAX_SIDE) : LABEL_MAX_SIDE;
}

/** Why `box` cannot label `image`, or null when it can. */
export function labelBoxProblem(box: Box, image: LabelledImage): string | null {
  const { x, y, w, h } = box;
  if (![x, y, w, h].every(Number.isFinite)) return 'the box has a coordinate that is not a finite number';
  if (w < 1 || h < 1) return `the box is ${fmt(w)} x ${fmt(h)} px; a label is at least 1 x 1 px`;
  const max = maxLabelSide(image);
  if (w > max || h > max) return `the box is ${fmt(w)} x ${fmt(h)} px; a label on this ${image.kind} is at most ${max} px a side`;
  if (x >= image.width || y >= image.height || x + w <= 0 || y + h <= 0) {
    return `the box (${fmt(x)}, ${fmt(y)}, ${fmt(w)} x ${fmt(h)}) lies outside the ${image.width} x ${image.height} px ${image.kind}`;
  }
  return null;
}

const fmt = (v: number) => (Math.abs(v) < 1e7 ? String(Math.round(v * 100) / 100) : v.toExponential(2));
