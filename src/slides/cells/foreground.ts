// Which tiles hold anything stained, judged on a coarse pyramid level before any tile is read:
// LBC slides are mostly glass, and skipping it is the largest speed-up there is. Also the
// glass colour, estimated once per slide so every tile converts RGB to OD the same way.
import { estimateWhite, opticalDensity, type Rgb3 } from './stains';
import { tileAt, type TilePlan } from './tiles';
import { sizeOf, type RegionSource, type RgbImage } from './types';

/** A tile is processed when some overview pixel in it is at least this dark (max channel OD). */
export const FOREGROUND_OD = 0.06;

export interface Overview {
  image: RgbImage;
  /** Level-0 px per overview px. */
  downsample: number;
}

/** The coarsest level at least 4x coarser than `level`, read whole; null when the slide has none. */
export async function readOverview(source: RegionSource, level: number, maxPixels = 4e6): Promise<Overview | null> {
  const base = source.levelDownsamples[level];
  for (let l = source.levelCount - 1; l > level; l--) {
    const ds = source.levelDownsamples[l];
    const { width, height } = sizeOf(source.levelDimensions[l]);
    if (ds < 4 * base || width * height > maxPixels) continue;
    return { image: await source.readRegion(l, 0, 0, width, height), downsample: ds };
  }
  return null;
}

/** Per tile of `plan`: 1 when its read area holds a foreground pixel of the overview. */
export function foregroundTiles(plan: TilePlan, overview: Overview, white: Rgb3): Uint8Array {
  const { image: o, downsample } = overview;
  const dark = new Uint8Array(o.width * o.height);
  const limit = white.map((wv) => {
    let v = 255;
    while (v > 0 && opticalDensity(v, wv) < FOREGROUND_OD) v--;
    return v; // values at or below this are dark enough
  });
  for (let i = 0, p = 0; i < dark.length; i++, p += 3)
    dark[i] = o.data[p] <= limit[0] || o.data[p + 1] <= limit[1] || o.data[p + 2] <= limit[2] ? 1 : 0;
  const flags = new Uint8Array(plan.count);
  const scale = plan.downsample / downsample; // overview px per level px
  for (let t = 0; t < plan.count; t++) {
    const r = tileAt(plan, t).read;
    const x0 = Math.max(0, Math.floor(r.x0 * scale) - 1);
    const y0 = Math.max(0, Math.floor(r.y0 * scale) - 1);
    const x1 = Math.min(o.width, Math.ceil(r.x1 * scale) + 1);
    const y1 = Math.min(o.height, Math.ceil(r.y1 * scale) + 1);
    search: for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++)
        if (dark[y * o.width + x]) {
          flags[t] = 1;
          break search;
        }
  }
  return flags;
}

export { estimateWhite };
