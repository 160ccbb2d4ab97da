// Outlines for the viewer and GeoJSON export: the 8-connected boundary of a region traced with
// Moore's neighbour rule, then Douglas-Peucker simplified, so a nucleus costs ~10-30 vertices.

// Clockwise (in image coordinates, y down) Moore neighbourhood starting west.
const DX = [-1, -1, 0, 1, 1, 1, 0, -1];
const DY = [0, -1, -1, -1, 0, 1, 1, 1];

/**
 * Boundary pixel centres of region `id` in `regions` (w x h), starting at its first pixel in
 * raster order (`start`). Stops when the start pixel is re-entered in the same direction (Jacob's
 * criterion), so one-pixel-wide necks are walked both ways instead of ending the trace early.
 */
export function traceBoundary(regions: Int32Array, w: number, h: number, id: number, start: number): Array<[number, number]> {
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < w && y < h && regions[y * w + x] === id;
  const sx = start % w;
  const sy = (start / w) | 0;
  const points: Array<[number, number]> = [];
  let x = sx;
  let y = sy;
  let dir = 0; // raster order: the west neighbour of the start is outside, search from there
  let firstDir = -1;
  for (let guard = 0; guard < 4 * w * h + 8; guard++) {
    let found = -1;
    for (let k = 0; k < 8; k++) {
      const d = (dir + k) % 8;
      if (inside(x + DX[d], y + DY[d])) {
        found = d;
        break;
      }
    }
    if (found < 0) return [[sx, sy]]; // a single pixel
    if (x === sx && y === sy) {
      if (firstDir === found) break;
      if (firstDir < 0) firstDir = found;
    }
    points.push([x, y]);
    x += DX[found];
    y += DY[found];
    // The neighbour two steps anticlockwise of the move was already seen to be outside.
    dir = (found + 6) % 8;
  }
  return points;
}

function segmentDistance(p: [number, number], a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return Math.hypot(p[0] - a[0], p[1] - a[1]);
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

/** Douglas-Peucker on a closed ring: split at the vertex farthest from the first, simplify both halves. */
export function simplifyRing(points: Array<[number, number]>, epsilon: number): Array<[number, number]> {
  if (points.length <= 4) return points.slice();
  let far = 0;
  let best = -1;
  for (let i = 1; i < points.length; i++) {
    const d = Math.hypot(points[i][0] - points[0][0], points[i][1] - points[0][1]);
    if (d > best) {
      best = d;
      far = i;
    }
  }
  const keep = new Uint8Array(points.length);
  keep[0] = keep[far] = 1;
  const stack: Array<[number, number]> = [
    [0, far],
    [far, points.length],
  ];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    const pb = points[b % points.length];
    let idx = -1;
    let dmax = epsilon;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance(points[i], points[a], pb);
      if (d > dmax) {
        dmax = d;
        idx = i;
      }
    }
    if (idx >= 0) {
      keep[idx] = 1;
      stack.push([a, idx], [idx, b]);
    }
  }
  return points.filter((_, i) => keep[i]);
}
