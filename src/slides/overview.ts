// Low-resolution Deep Zoom levels from one cached overview image.
//
// DeepZoomGenerator renders every tile of a level coarser than the slide's smallest level by
// reading the whole of that slide level and shrinking it: for CMU-1-Small-Region (one level)
// that is ten reads of all 6.6 MP, about 0.5 s each, before the viewer shows anything. We read
// it once instead: the overview is the largest Deep Zoom level whose longer side fits in
// `maxSide`, built with the same maths, and kept per open slide (<= 12 MB at 2048 px). Tiles
// of that level and coarser are cut from it and resized with Lanczos; the two-stage resize
// differs from the reference by about a grey level (the tile service test checks it).
import sharp, { type Sharp } from 'sharp';
import type { DeepZoomLayout, TileRegion } from '../shared/deepZoom';
import type { SlideReader } from './types';
import type { RgbImage, Size } from '../shared/image';
import { fromRgb, toRgb } from './sharpRgb';
import { readScaled } from './patches';
import { MAX_REGION_PIXELS } from './pixelLimits';

export interface Overview {
  /** Deep Zoom level the overview is a full image of. */
  dzLevel: number;
  image: RgbImage;
}

/** The DZ level to use as overview, or -1 when even level 0 of Deep Zoom does not need one. */
export function overviewLevel(layout: DeepZoomLayout, maxSide = 2048): number {
  let best = -1;
  for (let d = 0; d < layout.levelCount; d++) {
    const [w, h] = layout.levelDimensions[d];
    if (Math.max(w, h) <= maxSide) best = d;
  }
  return best;
}

/** Where the whole level is read from: the slide reader, or one that can also pad (the region cache). */
export interface OverviewSource {
  /** read_region; with `padTo` it may return W x H with the last column and row repeated (else w x h). */
  readRegion(level: number, x0: number, y0: number, w: number, h: number, padTo?: Size): Promise<RgbImage>;
}

/**
 * Read the slide level DeepZoomGenerator would use for `dzLevel` whole, resized to that level's
 * size. `source` reads the whole level (default: the reader; bands of a too-large level always do).
 */
export async function buildOverview(
  reader: SlideReader,
  layout: DeepZoomLayout,
  dzLevel: number,
  source: OverviewSource = reader,
): Promise<Overview | null> {
  if (dzLevel < 0) return null;
  const slideLevel = layout.slideLevelForDzLevel[dzLevel];
  const [lw, lh] = layout.activeLevelDimensions[slideLevel];
  const [zw, zh] = layout.levelDimensions[dzLevel];
  const [ox, oy] = layout.l0Offset;
  // A slide level too large to hold at once (a single-level 40x scan): read it in bands, so no
  // coarse tile ever reads the whole level itself.
  if (lw * lh > MAX_REGION_PIXELS) {
    const ds = reader.levelDownsamples[slideLevel];
    const box = { x: ox, y: oy, w: Math.round(lw * ds), h: Math.round(lh * ds) };
    return { dzLevel, image: await readScaled(reader, slideLevel, box, zw, zh) };
  }
  // Keep the scale an exact power of two (as every tile's own read is): pad odd edges by
  // repeating the last pixels so 2967 px -> 1484 px scales by 2, not 2967/1484.
  const k = Math.round(layout.levelToDzDownsample[dzLevel]);
  const pad = Math.abs(k - layout.levelToDzDownsample[dzLevel]) < 1e-9 && (zw * k > lw || zh * k > lh);
  const [W, H] = pad ? [zw * k, zh * k] : [lw, lh];
  const region = await source.readRegion(slideLevel, ox, oy, lw, lh, pad ? [W, H] : undefined);
  if (lw === zw && lh === zh) return { dzLevel, image: region };
  let img = fromRgb(region);
  if (region.width !== W || region.height !== H) {
    const padded = await img
      .extend({ right: W - lw, bottom: H - lh, extendWith: 'copy' })
      .raw()
      .toBuffer();
    img = sharp(padded, { raw: { width: W, height: H, channels: 3 } });
  }
  return { dzLevel, image: await toRgb(img.resize(zw, zh, { fit: 'fill', kernel: 'lanczos3' })) };
}

/** Tile pixels (tile-sized RGB) cut from the overview, for a tile at the overview's level or coarser. */
export function tileFromOverview(ov: Overview, layout: DeepZoomLayout, r: TileRegion): Sharp {
  const scale = 2 ** (ov.dzLevel - r.level);
  const { tileSize, overlap } = layout;
  const tl = [r.col !== 0 ? overlap : 0, r.row !== 0 ? overlap : 0];
  const left = (r.col * tileSize - tl[0]) * scale;
  const top = (r.row * tileSize - tl[1]) * scale;
  // Level d is ceil(overview / scale): the last tile may ask for a few pixels past the edge.
  // Clip and stretch to the tile size, as DeepZoomGenerator's own edge tiles do.
  const width = Math.min(r.tileSize[0] * scale, ov.image.width - left);
  const height = Math.min(r.tileSize[1] * scale, ov.image.height - top);
  const resize = { fit: 'fill', kernel: 'lanczos3' } as const;
  const img = fromRgb(ov.image);
  // The coarsest levels are one tile of the whole overview: nothing to crop.
  const whole = left === 0 && top === 0 && width === ov.image.width && height === ov.image.height;
  const crop = whole ? img : img.extract({ left, top, width, height });
  // libvips resizes an extracted area exactly as a copy of it (checked in the tile service test).
  return width === r.tileSize[0] && height === r.tileSize[1] ? crop : crop.resize(r.tileSize[0], r.tileSize[1], resize);
}
