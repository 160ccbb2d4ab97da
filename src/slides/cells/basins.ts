// Seeded watershed on the background-subtracted haematoxylin contrast: one basin per local
// maximum, flooded downhill over pixels above the minimum contrast. Basins merge when the dip
// between them is shallow (texture inside one nucleus); a much fainter basin with no dip is a
// shoulder (cytoplasm around a nucleus) and is dropped. Each basin then keeps only the pixels
// above half its peak, so its outline follows its own nucleus' edge whatever the stain depth;
// what that leaves out gets a second chance as nuclei of its own (secondChance).
import { BucketQueue } from './heap';
import type { Workspace } from './workspace';

/** A dip shallower than this fraction of the lower peak does not separate two basins. */
const DYNAMIC = 0.2;
/** A basin fainter than this fraction of its neighbour, with no dip between, is its shoulder. */
const SHOULDER = 0.5;
/** Fraction of its peak a pixel must reach to belong to its basin's nucleus. */
const HALF = 0.5;

export interface Basins {
  /** Basin id per pixel (1..count-1), 0 outside any nucleus. */
  ids: Int32Array;
  count: number;
  /** Ids from here on are second-chance pieces (see secondChance), held to a stricter shape. */
  firstLeftover: number;
}

export function floodBasins(c: Float32Array, w: number, h: number, minContrast: number, gap: number, ws: Workspace): Basins {
  const n = w * h;
  const label = ws.i32('basinLabel', n).fill(0);
  const peaks: number[] = [0];
  // 1/512 OD buckets from the threshold up to OD 8 (anything darker shares the top bucket).
  const heap = new BucketQueue(minContrast, 1 / 512, 4096, ws.i32('queueLinks', n));
  // Seeds: 8-neighbourhood maxima above the threshold (plateaus give several, merged below).
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      const v = c[i];
      if (v <= minContrast) continue;
      if (
        v < c[i - 1] ||
        v < c[i + 1] ||
        v < c[i - w] ||
        v < c[i + w] ||
        v < c[i - w - 1] ||
        v < c[i - w + 1] ||
        v < c[i + w - 1] ||
        v < c[i + w + 1]
      )
        continue;
      label[i] = peaks.length;
      peaks.push(v);
      heap.push(i, v);
    }
  }
  // Meyer flooding; `saddle` keeps the highest level at which each pair of basins meets.
  const saddle = new Map<number, number>();
  const stride = 2 ** 26;
  while (heap.size > 0) {
    const i = heap.pop();
    const a = label[i];
    const x = i % w;
    const ci = c[i];
    for (let dy = -w; dy <= w; dy += w) {
      const row = i + dy;
      if (row < 0 || row >= n) continue;
      for (let dx = -1; dx <= 1; dx++) {
        if (x + dx < 0 || x + dx >= w || (dx === 0 && dy === 0)) continue;
        const j = row + dx;
        if (c[j] <= minContrast) continue;
        const b = label[j];
        if (b === 0) {
          label[j] = a;
          heap.push(j, c[j]);
        } else if (b !== a) {
          const key = a < b ? a * stride + b : b * stride + a;
          const level = ci < c[j] ? ci : c[j];
          const had = saddle.get(key);
          if (had === undefined || level > had) saddle.set(key, level);
        }
      }
    }
  }
  const root = Int32Array.from({ length: peaks.length }, (_, k) => k);
  const find = (k: number): number => {
    while (root[k] !== k) k = root[k] = root[root[k]];
    return k;
  };
  const peak = Float32Array.from(peaks);
  const shoulder = new Uint8Array(peaks.length);
  for (const [key, level] of [...saddle.entries()].sort((p, q) => q[1] - p[1])) {
    let ra = find(Math.floor(key / stride));
    let rb = find(key % stride);
    if (ra === rb) continue;
    if (peak[ra] < peak[rb]) [ra, rb] = [rb, ra]; // ra is the brighter
    const low = peak[rb];
    if (low - level >= Math.max(DYNAMIC * low, minContrast / 2)) continue; // a real dip: two nuclei
    if (low >= SHOULDER * peak[ra]) root[rb] = ra;
    else shoulder[rb] = 1;
  }
  // Keep pixels above half their basin's peak; compact ids to 1..count-1.
  const ids = ws.i32('basinIds', n).fill(0);
  const compact = new Int32Array(peaks.length);
  let count = 1;
  for (let i = 0; i < n; i++) {
    if (!label[i]) continue;
    const r = find(label[i]);
    if (shoulder[r] || c[i] <= HALF * peak[r]) continue;
    if (!compact[r]) compact[r] = count++;
    ids[i] = compact[r];
  }
  return { ids, count: secondChance(c, w, h, minContrast, gap, label, ids, count, ws), firstLeftover: count };
}

/**
 * A pale nucleus pressed against a dark one has no maximum of its own (the dark one's slope runs
 * through it) or is taken for its shoulder, and falls below the dark one's half-maximum. What is
 * left above the threshold, more than `gap` px from every kept pixel (which drops the dark one's
 * blurred rim), gets a new id per connected piece; size and shape filters judge it later.
 */
function secondChance(
  c: Float32Array,
  w: number,
  h: number,
  minContrast: number,
  gap: number,
  label: Int32Array,
  ids: Int32Array,
  count: number,
  ws: Workspace,
): number {
  void minContrast; // labelled pixels are all above it
  const n = w * h;
  // mark: 1 candidate (in a basin, not kept), 2 within `gap` of a kept pixel, 3 given an id.
  const mark = ws.u8('leftoverMark', n).fill(0);
  const queue = ws.i32('leftoverQueue', n);
  let candidates = 0;
  for (let i = 0; i < n; i++)
    if (label[i] && !ids[i]) {
      mark[i] = 1;
      candidates++;
    }
  if (candidates === 0) return count;
  // Breadth-first from the kept pixels through candidates, `gap` 8-connected steps deep.
  let tail = 0;
  for (let i = 0; i < n; i++) {
    if (mark[i] !== 1) continue;
    const x = i % w;
    let touches = false;
    for (let dy = -w; dy <= w && !touches; dy += w)
      for (let dx = -1; dx <= 1; dx++) {
        const j = i + dy + dx;
        if (x + dx >= 0 && x + dx < w && j >= 0 && j < n && ids[j]) {
          touches = true;
          break;
        }
      }
    if (touches) {
      mark[i] = 2;
      queue[tail++] = i;
    }
  }
  let head = 0;
  for (let step = 1; step < Math.round(gap); step++) {
    const end = tail;
    for (; head < end; head++) {
      const i = queue[head];
      const x = i % w;
      for (let dy = -w; dy <= w; dy += w)
        for (let dx = -1; dx <= 1; dx++) {
          const j = i + dy + dx;
          if (x + dx < 0 || x + dx >= w || j < 0 || j >= n || mark[j] !== 1) continue;
          mark[j] = 2;
          queue[tail++] = j;
        }
    }
  }
  // What is left, grouped into 8-connected pieces, each a new id.
  let next = count;
  for (let s = 0; s < n; s++) {
    if (mark[s] !== 1) continue;
    mark[s] = 3;
    ids[s] = next;
    let qh = 0;
    let qt = 0;
    queue[qt++] = s;
    while (qh < qt) {
      const i = queue[qh++];
      const x = i % w;
      for (let dy = -w; dy <= w; dy += w)
        for (let dx = -1; dx <= 1; dx++) {
          const j = i + dy + dx;
          if (x + dx < 0 || x + dx >= w || j < 0 || j >= n || mark[j] !== 1) continue;
          mark[j] = 3;
          ids[j] = next;
          queue[qt++] = j;
        }
    }
    next++;
  }
  return next;
}
