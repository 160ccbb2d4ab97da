// The pixels or bytes of one Deep Zoom tile of an open slide, before caching and queueing
// (tileService.ts): a stored JPEG passed through, a tile cut from the overview, or a region
// of the slide read through the decoded-block cache and resized as DeepZoomGenerator does.
import type { Sharp } from 'sharp';
import { isValidTile, type DeepZoomLayout, type TileRegion } from '../shared/deepZoom';
import { buildOverview, overviewLevel, tileFromOverview, type Overview } from './overview';
import type { RegionCache } from './regionCache';
import type { SlidePixels } from './slidePixels';
import type { SlideReader } from './types';
import { fromRgb } from './sharpRgb';

/** What rendering needs of an open slide. */
export interface RenderSlide {
  reader: SlideReader;
  pixels: SlidePixels;
  nativeLayout: DeepZoomLayout;
  /** Built on the first coarse tile; null when the slide level is too large to hold. */
  overview?: Promise<Overview | null>;
}

/** The stored JPEG where a native-layout tile is exactly one of the slide's own tiles; else null. */
export async function storedTile(s: RenderSlide, layout: DeepZoomLayout, r: TileRegion): Promise<Buffer | null> {
  const page = s.pixels.levelPages[r.slideLevel];
  const ts = layout.tileSize;
  if (layout !== s.nativeLayout || !s.pixels.tiff || !page || page.tileWidth !== ts || page.tileHeight !== ts || layout.overlap !== 0)
    return null;
  const [zw, zh] = layout.levelDimensions[r.level];
  // The Deep Zoom level is the slide level itself, unshifted, and the tile a whole stored tile.
  if (layout.levelToDzDownsample[r.level] !== 1 || zw !== page.width || zh !== page.height) return null;
  if (layout.l0Offset[0] !== 0 || layout.l0Offset[1] !== 0 || r.tileSize[0] !== ts || r.tileSize[1] !== ts) return null;
  return s.pixels.tiff.jpegTile(page, r.col, r.row);
}

export interface PixelOptions {
  regions: RegionCache;
  overviewMaxSide: number;
  /** Called once when this call started building the slide's overview (coarse levels ≤ `ovLevel`). */
  onOverview?: (overview: Promise<Overview | null>, ovLevel: number) => void;
}

/** Tile-sized RGB pixels of `r` as a sharp pipeline (encode it, or read it raw). */
export async function tilePixels(s: RenderSlide, layout: DeepZoomLayout, r: TileRegion, o: PixelOptions): Promise<Sharp> {
  const ovLevel = overviewLevel(layout, o.overviewMaxSide);
  if (r.level <= ovLevel) {
    if (!s.overview) {
      // The overview depends on level sizes only, which both layouts share.
      s.overview = buildOverview(s.reader, layout, ovLevel, { readRegion: (...a) => o.regions.read(s.pixels, ...a) });
      o.onOverview?.(s.overview, ovLevel);
    }
    const ov = await s.overview;
    if (ov) return tileFromOverview(ov, layout, r);
  }
  const [lw, lh] = r.levelSize;
  const [tw, th] = r.tileSize;
  const view = await o.regions.readView(s.pixels, r.slideLevel, r.l0Location[0], r.l0Location[1], lw, lh);
  let img = fromRgb(view.image);
  // Cut from a cached block; libvips resizes the extracted area exactly as a copy of it.
  if (view.image.width !== lw || view.image.height !== lh) img = img.extract({ left: view.left, top: view.top, width: lw, height: lh });
  // DeepZoomGenerator: Image.thumbnail(z_size, LANCZOS) when the region is not already tile-sized.
  return lw !== tw || lh !== th ? img.resize(tw, th, { fit: 'fill', kernel: 'lanczos3' }) : img;
}

export interface TileAddress {
  level: number;
  col: number;
  row: number;
}

/**
 * The tiles around `r` within `radius` (not `r` itself), nearest first (by rows and columns
 * to cross), right and down before left and up: the order a viewer panning on asks next.
 */
export function* neighbours(layout: DeepZoomLayout, r: TileAddress, radius: number): Generator<TileAddress> {
  const offsets: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (dx || dy) offsets.push([dx, dy]);
  const rank = ([dx, dy]: [number, number]) => (Math.abs(dx) + Math.abs(dy)) * 4 - (dx > 0 ? 2 : 0) - (dy > 0 ? 1 : 0);
  offsets.sort((a, b) => rank(a) - rank(b));
  for (const [dx, dy] of offsets) {
    const [col, row] = [r.col + dx, r.row + dy];
    if (isValidTile(layout, r.level, col, row)) yield { level: r.level, col, row };
  }
}

/** Every tile of levels 0..`maxLevel`, coarsest first. */
export function* coarseTiles(layout: DeepZoomLayout, maxLevel: number): Generator<TileAddress> {
  for (let level = 0; level <= maxLevel; level++) {
    const [cols, rows] = layout.levelTiles[level];
    for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) yield { level, col, row };
  }
}
