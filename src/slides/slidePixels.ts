// Where the tile service gets an open slide's pixels from, and what it may pass through.
//
// Aperio SVS and generic tiled TIFF keep each level as a TIFF page of JPEG (or LZW, deflate)
// tiles. For those levels libvips decodes the stored tiles itself, several times faster than
// OpenSlide 3.4.1 (which goes through libtiff's RGBA interface: ~7 ms per 240 px tile here)
// and to the same pixels at whole-pixel origins (test/integration/slides/passthrough.test.ts
// checks both readers agree exactly). Other vendors (their TIFF pages are not their levels:
// overlaps, offsets, several images) and other formats read through the slide's own reader,
// still in blocks where the level's downsample is whole. Plain images are in memory already.
import type { Size } from '../shared/image';
import type { BlockSource } from './regionCache';
import { SharpSlideReader } from './sharpReader';
import { readTiffPages, type TiffPage } from './tiffDirectory';
import { isPassthroughPage, TiffTileFile } from './tiffTiles';
import type { SlideReader } from './types';

/** OpenSlide vendors whose levels are exactly the TIFF's tiled pages. */
const TIFF_VENDORS = new Set(['aperio', 'generic-tiff']);
/** Compressions libvips decodes losslessly-equal to libtiff: none, LZW, JPEG, deflate. */
const LIBVIPS_COMPRESSIONS = new Set([1, 5, 7, 8, 32946]);
/** Target block side in pixels: ~3 MB of RGB, 16 tiles of 240-256 px per decode. */
const BLOCK_PX = 1024;

export interface SlidePixels extends BlockSource {
  /** Stored tiles for passthrough, or null (not a TIFF this can read tiles of). */
  readonly tiff: TiffTileFile | null;
  /** The TIFF page holding each slide level as stored (same size), or null. */
  readonly levelPages: readonly (TiffPage | null)[];
  /** Square tile side of level 0 when its tiles can be served as stored; null otherwise. */
  readonly nativeTileSize: number | null;
  close(): void;
}

function blockOf(tile: Size): Size {
  return [tile[0] * Math.max(1, Math.round(BLOCK_PX / tile[0])), tile[1] * Math.max(1, Math.round(BLOCK_PX / tile[1]))];
}

function tileProps(reader: SlideReader, level: number): Size | null {
  const w = Number(reader.properties[`openslide.level[${level}].tile-width`]);
  const h = Number(reader.properties[`openslide.level[${level}].tile-height`]);
  return w > 0 && h > 0 && Number.isInteger(w) && Number.isInteger(h) ? [w, h] : null;
}

/** The pixel source of `reader`; `key` must be unique per open slide. Never throws for a reader that opened. */
export async function openSlidePixels(reader: SlideReader, key: string): Promise<SlidePixels> {
  const tiffBased = reader.readerName === 'sharp' || (reader.readerName === 'openslide' && TIFF_VENDORS.has(reader.vendor ?? ''));
  const pages = tiffBased ? await readTiffPages(reader.path).catch(() => null) : null;
  const levelPages = reader.levelDimensions.map(
    ([w, h]) => pages?.find((p) => p.tileWidth !== null && !(p.subfileType & 4) && p.width === w && p.height === h) ?? null,
  );
  // libvips for the levels it can decode (the sharp reader is this already).
  const fast =
    reader.readerName === 'sharp' ? reader : pages && levelPages.some((p) => p !== null) ? new SharpSlideReader(reader.path, pages) : null;
  const fastLevel = levelPages.map((p, level) => {
    if (!fast || !p || !LIBVIPS_COMPRESSIONS.has(p.compression ?? -1)) return null;
    const [w, h] = reader.levelDimensions[level];
    const i = fast.levelDimensions.findIndex(([fw, fh]) => fw === w && fh === h);
    return i >= 0 ? i : null;
  });
  const page0 = levelPages[0];
  const passthrough = page0 !== null && isPassthroughPage(page0) && page0.tileWidth === page0.tileHeight;
  const tiff = passthrough ? await TiffTileFile.open(reader.path).catch(() => null) : null;
  const ds = reader.levelDownsamples;
  const exactOnly = reader.readerName !== 'sharp';

  const blocks = reader.levelDimensions.map((_, level): Size | null => {
    const page = levelPages[level];
    if (fastLevel[level] !== null && page) return blockOf([page.tileWidth!, page.tileHeight!]);
    // Through OpenSlide: blocks start on whole level-0 pixels only when the downsample is whole.
    if (reader.readerName === 'openslide' && Number.isInteger(ds[level])) return blockOf(tileProps(reader, level) ?? [256, 256]);
    return null;
  });

  return {
    key,
    tiff,
    levelPages,
    nativeTileSize: tiff ? page0!.tileWidth : null,
    blockSize: (level) => blocks[level] ?? null,
    levelSize: (level) => reader.levelDimensions[level],
    levelOrigin(level, x0, y0) {
      const lx = x0 / ds[level];
      const ly = y0 / ds[level];
      // The sharp reader rounds to the nearest pixel itself; OpenSlide shifts by the fraction.
      if (!exactOnly) return [Math.round(lx), Math.round(ly)];
      return Number.isInteger(lx) && Number.isInteger(ly) ? [lx, ly] : null;
    },
    readBlock(level, lx, ly, w, h) {
      const fl = fastLevel[level];
      if (fl !== null && fast) {
        const d = fast.levelDownsamples[fl];
        // round(round(lx * d) / d) === lx for d >= 1: the sharp reader lands on lx exactly.
        return fast.readRegion(fl, Math.round(lx * d), Math.round(ly * d), w, h);
      }
      return reader.readRegion(level, lx * ds[level], ly * ds[level], w, h);
    },
    readDirect: (level, x0, y0, w, h) => reader.readRegion(level, x0, y0, w, h),
    close() {
      tiff?.close();
      if (fast && fast !== reader) fast.close();
    },
  };
}
