import { describe, expect, it } from 'vitest';
import { simplifyRing, traceBoundary } from '../../../../src/slides/cells/outline';

function grid(rows: string[]): { regions: Int32Array; w: number; h: number } {
  const h = rows.length;
  const w = rows[0].length;
  const regions = new Int32Array(w * h);
  rows.forEach((r, y) => [...r].forEach((c, x) => (regions[y * w + x] = c === '#' ? 1 : 0)));
  return { regions, w, h };
}

describe('outlines', () => {
  it('traces the boundary pixels of a square once each, clockwise', () => {
    const { regions, w, h } = grid(['.....', '.###.', '.###.', '.###.', '.....']);
    const ring = traceBoundary(regions, w, h, 1, 1 * w + 1);
    expect(ring).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [3, 2],
      [3, 3],
      [2, 3],
      [1, 3],
      [1, 2],
    ]);
    expect(simplifyRing(ring, 0.5)).toEqual([
      [1, 1],
      [3, 1],
      [3, 3],
      [1, 3],
    ]);
  });

  it('walks a one-pixel neck both ways instead of stopping early', () => {
    const { regions, w, h } = grid(['##...', '##...', '.#...', '.##..', '.##..']);
    const ring = traceBoundary(regions, w, h, 1, 0);
    expect(ring.length).toBeGreaterThanOrEqual(9);
    expect(ring).toContainEqual([2, 4]);
    expect(ring).toContainEqual([0, 1]);
  });

  it('handles a single pixel', () => {
    const { regions, w, h } = grid(['...', '.#.', '...']);
    expect(traceBoundary(regions, w, h, 1, 4)).toEqual([[1, 1]]);
  });
});
