// Per-region measurements in one pass over the tile, then the size and shape filters and the
// conversion to slide (level-0) coordinates.
import type { PixelParams } from './params';
import type { CellDetection } from './types';
import { simplifyRing, traceBoundary } from './outline';
import { rimStats } from './rim';

export interface MeasureOptions {
  /** Level px of the image's top-left corner on the slide. */
  originX: number;
  originY: number;
  /** Keep only regions whose centroid lies in [x0, x1) x [y0, y1) (image px): the tile's core. */
  core?: { x0: number; y0: number; x1: number; y1: number };
  /** Per region id, 1 when it must meet SECOND_CHANCE_CIRCULARITY (pieces left beside a darker nucleus). */
  secondChance?: Uint8Array;
  /** Per region id, the basin it was split from (siblings are left out of each other's rim). */
  group?: Int32Array;
}

/** Leftovers beside a darker nucleus are often cytoplasm: only round ones count as nuclei. */
const SECOND_CHANCE_CIRCULARITY = 0.7;

/** Width of the ring around a region that must be lighter than it, px. */
const RIM_PX = 3;
/** The region must beat its ring's upper quartile by this fraction of the minimum contrast. */
const RIM_FRACTION = 0.5;

export interface ColourTables {
  /** Haematoxylin OD and OD-sum tables (see stains.ts), per R, G, B value. */
  haematoxylin: Luts;
  odSum: Luts;
}
type Luts = [Float32Array, Float32Array, Float32Array];

/**
 * Turn labelled `regions` (ids 1..count-1, w x h) into detections. Colour measures come from
 * the `rgb` pixels through `tables`, whichever channel was detected on. Perimeter counts pixel
 * edges facing other labels, times pi / 4 (the mean ratio of a crack boundary to the Euclidean
 * length over all orientations).
 */
export function measureRegions(
  regions: Int32Array,
  w: number,
  h: number,
  count: number,
  rgb: Uint8Array,
  smooth: Float32Array,
  tables: ColourTables,
  px: PixelParams,
  o: MeasureOptions,
): CellDetection[] {
  const [hr, hg, hb] = tables.haematoxylin;
  const [sr, sg, sb] = tables.odSum;
  const area = new Float64Array(count);
  const sx = new Float64Array(count);
  const sy = new Float64Array(count);
  const sod = new Float64Array(count);
  const ssum = new Float64Array(count);
  const edges = new Float64Array(count);
  const x0 = new Int32Array(count).fill(w);
  const y0 = new Int32Array(count).fill(h);
  const x1 = new Int32Array(count).fill(-1);
  const y1 = new Int32Array(count).fill(-1);
  const first = new Int32Array(count).fill(-1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      const r = regions[i];
      if (!r) continue;
      if (first[r] < 0) first[r] = i;
      area[r]++;
      sx[r] += x;
      sy[r] += y;
      const p = 3 * i;
      sod[r] += hr[rgb[p]] + hg[rgb[p + 1]] + hb[rgb[p + 2]];
      ssum[r] += sr[rgb[p]] + sg[rgb[p + 1]] + sb[rgb[p + 2]];
      if (x < x0[r]) x0[r] = x;
      if (x > x1[r]) x1[r] = x;
      if (y1[r] < y) y1[r] = y;
      if (y0[r] > y) y0[r] = y;
      edges[r] +=
        (x === 0 || regions[i - 1] !== r ? 1 : 0) +
        (x === w - 1 || regions[i + 1] !== r ? 1 : 0) +
        (y === 0 || regions[i - w] !== r ? 1 : 0) +
        (y === h - 1 || regions[i + w] !== r ? 1 : 0);
    }
  }
  const ds = px.downsample;
  const um2PerPx = px.umPerPx * px.umPerPx;
  const out: CellDetection[] = [];
  for (let r = 1; r < count; r++) {
    const a = area[r];
    if (a < px.minAreaPx || a > px.maxAreaPx) continue;
    const perimeter = (edges[r] * Math.PI) / 4;
    const circularity = Math.min(1, (4 * Math.PI * a) / (perimeter * perimeter));
    if (circularity < (o.secondChance?.[r] ? Math.max(px.minCircularity, SECOND_CHANCE_CIRCULARITY) : px.minCircularity)) continue;
    // Pixel i covers [i, i + 1): its centre is i + 0.5.
    const cx = sx[r] / a + 0.5;
    const cy = sy[r] / a + 0.5;
    if (o.core && (cx < o.core.x0 || cx >= o.core.x1 || cy < o.core.y0 || cy >= o.core.y1)) continue;
    // A second-chance piece has a darker nucleus' blurred rim on one side: judge it on the ring's median.
    const box = { x0: x0[r], y0: y0[r], x1: x1[r], y1: y1[r] };
    const rim = rimStats(regions, w, h, r, box, smooth, rgb, tables, RIM_PX, o.secondChance?.[r] ? 0.5 : 0.75, o.group);
    if (rim.contrast < px.minContrastOd * RIM_FRACTION) continue;
    // Haematoxylin's share of what the region has over its ring: low for eosin/orange-G debris
    // and cytoplasm; measured on the excess, so a nucleus lying on pink cytoplasm still counts.
    const excessH = sod[r] / a - rim.ringH;
    const excessSum = ssum[r] / a - rim.ringSum;
    if (excessSum > 0 && excessH < px.minHaematoxylinShare * excessSum) continue;
    const d: CellDetection = {
      x: (cx + o.originX) * ds,
      y: (cy + o.originY) * ds,
      box: { x: (x0[r] + o.originX) * ds, y: (y0[r] + o.originY) * ds, w: (x1[r] - x0[r] + 1) * ds, h: (y1[r] - y0[r] + 1) * ds },
      areaPx: a,
      areaUm2: a * um2PerPx,
      meanOd: sod[r] / a,
      circularity,
    };
    if (px.outlines) {
      const ring = simplifyRing(traceBoundary(regions, w, h, r, first[r]), 0.7);
      d.outline = ring.map(([x, y]) => [(x + 0.5 + o.originX) * ds, (y + 0.5 + o.originY) * ds]);
    }
    out.push(d);
  }
  return out;
}
