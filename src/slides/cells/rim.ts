// What surrounds a candidate nucleus: the ring of pixels within `rim` px of it. A nucleus is
// darker than its ring (a crescent or lobe of cytoplasm is not darker than the cytoplasm or the
// nucleus on its inner side), and what makes it darker is haematoxylin (eosin, orange G and
// light green make cytoplasm and debris darker too, but not blue).
import type { ColourTables } from './measure';

export interface RimStats {
  /** Mean smoothed OD inside minus the `quantile` of the smoothed OD over the ring. */
  contrast: number;
  /** Mean haematoxylin OD and OD sum over the ring (raw pixels). */
  ringH: number;
  ringSum: number;
}

/**
 * Neighbouring regions belong to the ring unless they are parts of the same split basin
 * (`group`), which do not shade each other. A region with no ring (it fills the image) gets
 * contrast Infinity and ring densities of 0.
 */
export function rimStats(
  regions: Int32Array,
  w: number,
  h: number,
  id: number,
  box: { x0: number; y0: number; x1: number; y1: number },
  smooth: Float32Array,
  rgb: Uint8Array,
  tables: ColourTables,
  rim: number,
  quantile: number,
  group?: Int32Array,
): RimStats {
  const own = group ? group[id] : -1;
  const [hr, hg, hb] = tables.haematoxylin;
  const [sr, sg, sb] = tables.odSum;
  let inside = 0;
  let n = 0;
  let ringH = 0;
  let ringSum = 0;
  const ring: number[] = [];
  for (let y = Math.max(0, box.y0 - rim); y <= Math.min(h - 1, box.y1 + rim); y++)
    for (let x = Math.max(0, box.x0 - rim); x <= Math.min(w - 1, box.x1 + rim); x++) {
      const i = y * w + x;
      if (regions[i] === id) {
        inside += smooth[i];
        n++;
        continue;
      }
      if (regions[i] !== 0 && (!group || group[regions[i]] === own)) continue;
      let near = false;
      for (let yy = Math.max(0, y - rim); yy <= Math.min(h - 1, y + rim) && !near; yy++)
        for (let xx = Math.max(0, x - rim); xx <= Math.min(w - 1, x + rim); xx++)
          if (regions[yy * w + xx] === id) {
            near = true;
            break;
          }
      if (!near) continue;
      ring.push(smooth[i]);
      const p = 3 * i;
      ringH += hr[rgb[p]] + hg[rgb[p + 1]] + hb[rgb[p + 2]];
      ringSum += sr[rgb[p]] + sg[rgb[p + 1]] + sb[rgb[p + 2]];
    }
  if (ring.length === 0) return { contrast: Infinity, ringH: 0, ringSum: 0 };
  ring.sort((a, b) => a - b);
  return { contrast: inside / n - ring[Math.floor(ring.length * quantile)], ringH: ringH / ring.length, ringSum: ringSum / ring.length };
}
