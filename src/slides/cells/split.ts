// Splitting touching nuclei: markers at the maxima of the mask's distance map, a marker-driven
// watershed on that map, then merging basins whose common border is not a real neck. Two nuclei
// that touch leave a waist in the mask (distance at the saddle well below both peaks); one
// irregular nucleus does not, so its extra maxima merge back. Works on one component's bounding box.
import { distanceTransform } from './distance';
import { fillHoles, labelComponents, type Component } from './components';
import { PixelHeap } from './heap';

/** Split if the saddle is below this fraction of the smaller peak (0.75: centres < 1.3 r apart merge). */
const NECK_RATIO = 0.75;

/**
 * Split component `comp` of `labels` (tile width `w`) and write the parts into `regions` as ids
 * nextId, nextId + 1, ...; returns the next free id. `minRadiusPx` sets the marker spacing and
 * the smallest bump of the distance map that may count as a nucleus of its own.
 */
export function splitComponent(
  labels: Int32Array,
  w: number,
  comp: Component,
  minRadiusPx: number,
  regions: Int32Array,
  nextId: number,
): number {
  const cw = comp.x1 - comp.x0 + 3;
  const ch = comp.y1 - comp.y0 + 3;
  const n = cw * ch;
  const mask = new Uint8Array(n);
  for (let y = comp.y0; y <= comp.y1; y++)
    for (let x = comp.x0; x <= comp.x1; x++) if (labels[y * w + x] === comp.label) mask[(y - comp.y0 + 1) * cw + x - comp.x0 + 1] = 1;
  // Holes (pale chromatin) would read as necks; the 1-px zero frame keeps the outside connected.
  fillHoles(mask, cw, ch);
  const dist = distanceTransform(mask, cw, ch, new Float32Array(n));

  // Markers: pixels that are the maximum of the distance map within a window, grouped when adjacent.
  const rs = Math.max(1, Math.round(minRadiusPx / 2));
  const isSeed = new Uint8Array(n);
  for (let y = 1; y < ch - 1; y++)
    for (let x = 1; x < cw - 1; x++) {
      const i = y * cw + x;
      const d = dist[i];
      if (!mask[i] || d < 1) continue;
      let top = true;
      for (let yy = Math.max(0, y - rs); yy <= Math.min(ch - 1, y + rs) && top; yy++)
        for (let xx = Math.max(0, x - rs); xx <= Math.min(cw - 1, x + rs); xx++)
          if (dist[yy * cw + xx] > d) {
            top = false;
            break;
          }
      isSeed[i] = top ? 1 : 0;
    }
  const part = new Int32Array(n);
  const markers = labelComponents(isSeed, cw, ch, part);
  if (markers.length <= 1) return writeParts(comp, cw, ch, mask, null, labels, w, regions, nextId);

  const peak = new Float32Array(markers.length + 1);
  const heap = new PixelHeap(n);
  for (let i = 0; i < n; i++)
    if (part[i]) {
      peak[part[i]] = Math.max(peak[part[i]], dist[i]);
      heap.push(i, dist[i]);
    }
  // Flood downhill from the markers; where two basins meet, remember the highest meeting level.
  const saddle = new Map<number, number>();
  while (heap.size > 0) {
    const i = heap.pop();
    const a = part[i];
    const x = i % cw;
    for (let dy = -cw; dy <= cw; dy += cw)
      for (let dx = -1; dx <= 1; dx++) {
        const j = i + dy + dx;
        if ((dx === 0 && dy === 0) || x + dx < 0 || x + dx >= cw || j < 0 || j >= n || !mask[j]) continue;
        const b = part[j];
        if (!b) {
          part[j] = a;
          heap.push(j, dist[j]);
        } else if (b !== a) {
          const key = a < b ? a * 65536 + b : b * 65536 + a;
          const level = Math.min(dist[i], dist[j]);
          if (level > (saddle.get(key) ?? -1)) saddle.set(key, level);
        }
      }
  }
  // Merge from the highest saddle down, so a chain of lobes collapses before real necks are judged.
  const root = Array.from({ length: markers.length + 1 }, (_, k) => k);
  const find = (k: number): number => (root[k] === k ? k : (root[k] = find(root[k])));
  for (const [key, level] of [...saddle.entries()].sort((p, q) => q[1] - p[1])) {
    const ra = find(Math.floor(key / 65536));
    const rb = find(key % 65536);
    if (ra === rb) continue;
    const low = Math.min(peak[ra], peak[rb]);
    if (level >= NECK_RATIO * low || low < 0.5 * minRadiusPx) {
      root[rb] = ra;
      peak[ra] = Math.max(peak[ra], peak[rb]);
    }
  }
  for (let i = 0; i < n; i++) if (part[i]) part[i] = find(part[i]);
  return writeParts(comp, cw, ch, mask, part, labels, w, regions, nextId);
}

/**
 * Write the parts into `regions`. Filled holes are written only where no other component lives:
 * a ring of cytoplasm around a nucleus must not swallow the nucleus (and stays a ring, which the
 * shape filter then rejects).
 */
function writeParts(
  comp: Component,
  cw: number,
  ch: number,
  mask: Uint8Array,
  part: Int32Array | null,
  labels: Int32Array,
  w: number,
  regions: Int32Array,
  nextId: number,
): number {
  const ids = new Map<number, number>();
  for (let y = 1; y < ch - 1; y++)
    for (let x = 1; x < cw - 1; x++) {
      const i = y * cw + x;
      if (!mask[i]) continue;
      const owner = labels[(y - 1 + comp.y0) * w + x - 1 + comp.x0];
      if (owner !== comp.label && owner !== 0) continue;
      const key = part ? part[i] : 1;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = nextId++));
      regions[(y - 1 + comp.y0) * w + x - 1 + comp.x0] = id;
    }
  return nextId;
}
