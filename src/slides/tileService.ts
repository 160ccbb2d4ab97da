// Deep Zoom tiles on demand, addressed by image id (never by path): the database resolves an
// id to a file through `resolvePath`; anything it does not know, and any address outside the
// pyramid, is a 'not-found' error. Tiles follow openslide-python's DeepZoomGenerator: read the
// region at the best slide level, resize with Lanczos to the tile size, encode JPEG.
// Encoded tiles live in a byte-budgeted LRU; open slides in a small LRU of handles.
import type { Sharp } from 'sharp';
import { createDeepZoom, dziXml, tileRegion, type DeepZoomLayout, type TileRegion } from '../shared/deepZoom';
import { LruCache } from './lruCache';
import { buildOverview, overviewLevel, tileFromOverview, type Overview } from './overview';
import { openSlide } from './slideOpener';
import type { SlideReader } from './types';
import type { RgbImage } from '../shared/image';
import { fromRgb, toRgb } from './sharpRgb';

export class TileNotFoundError extends Error {
  readonly kind = 'not-found';
}

export interface TileServiceOptions {
  /** The database lookup: image id to file path, or null when the id is unknown. */
  resolvePath: (imageId: string) => string | null | undefined | Promise<string | null | undefined>;
  tileSize?: number;
  overlap?: number;
  limitBounds?: boolean;
  /** JPEG quality of tiles (default 85). */
  quality?: number;
  /** Byte budget of the encoded-tile cache (default 256 MiB; 0 disables caching). */
  cacheBytes?: number;
  /** How many slides stay open (default 8). */
  maxOpenSlides?: number;
  /** Reader preference passed to openSlide (default: OpenSlide where available). */
  prefer?: 'openslide' | 'sharp';
  /**
   * Longest side of the cached overview that coarse levels are cut from (default 2048);
   * 0 renders every tile exactly as DeepZoomGenerator does (one slide read per tile).
   */
  overviewMaxSide?: number;
}

export interface OpenedSlide {
  imageId: string;
  path: string;
  reader: SlideReader;
  layout: DeepZoomLayout;
  /** Built on the first coarse tile; null when the slide level is too large to hold. */
  overview?: Promise<Overview | null>;
}

export interface TileServiceStats {
  cachedTiles: number;
  cachedBytes: number;
  hits: number;
  misses: number;
  openSlides: number;
}

/** Image ids are database keys (integers, UUIDs, slugs); anything else is refused before the lookup. */
const IMAGE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * One open slide in the handle LRU. Leases are counted synchronously at lookup, before any
 * await, so an eviction can never close a handle between "found it" and "reading from it".
 */
interface SlideEntry {
  path: string;
  opened: Promise<OpenedSlide>;
  leases: number;
  evicted: boolean;
}

function closeWhenIdle(e: SlideEntry): void {
  if (e.evicted && e.leases === 0)
    void e.opened.then(
      (s) => s.reader.close(),
      () => undefined,
    );
}

export class TileService {
  private readonly tiles: LruCache<Buffer>;
  private readonly slides: LruCache<SlideEntry>;
  private readonly pending = new Map<string, Promise<Buffer>>();
  private readonly quality: number;

  constructor(private readonly options: TileServiceOptions) {
    this.quality = options.quality ?? 85;
    this.tiles = new LruCache<Buffer>({ budget: options.cacheBytes ?? 256 * 1024 * 1024, sizeOf: (b) => b.byteLength });
    this.slides = new LruCache<SlideEntry>({
      budget: options.maxOpenSlides ?? 8,
      sizeOf: () => 1,
      onEvict: (_id, e) => {
        e.evicted = true;
        closeWhenIdle(e);
      },
    });
  }

  /**
   * Run `fn` with the slide behind `imageId` open; the handle stays open until `fn` settles even
   * if another slide evicts it from the LRU meanwhile. Patch extraction uses this too.
   */
  async withSlide<T>(imageId: string, fn: (s: OpenedSlide) => Promise<T>): Promise<T> {
    const path = await this.lookup(imageId);
    // From here to the lease: no await.
    let entry = this.slides.get(imageId);
    if (entry && entry.path !== path) {
      // The id now points to another file (relinked): forget its tiles and handle.
      this.invalidate(imageId);
      entry = undefined;
    }
    if (!entry) {
      entry = { path, opened: this.open(imageId, path), leases: 0, evicted: false };
      this.slides.set(imageId, entry);
    }
    const e = entry;
    e.leases++;
    try {
      let s: OpenedSlide;
      try {
        s = await e.opened;
      } catch (err) {
        // Do not keep a failed open: the file may be fixed or relinked.
        if (this.slides.has(imageId) && this.slides.get(imageId) === e) this.slides.delete(imageId);
        throw err;
      }
      return await fn(s);
    } finally {
      e.leases--;
      closeWhenIdle(e);
    }
  }

  /** The file behind an id, or not-found; malformed ids never reach the database. */
  private async lookup(imageId: string): Promise<string> {
    if (typeof imageId !== 'string' || !IMAGE_ID.test(imageId)) throw new TileNotFoundError(`unknown image id`);
    const path = await this.options.resolvePath(imageId);
    if (!path) throw new TileNotFoundError(`unknown image id ${imageId}`);
    return path;
  }

  private async open(imageId: string, path: string): Promise<OpenedSlide> {
    const reader = await openSlide(path, { prefer: this.options.prefer });
    return {
      imageId,
      path,
      reader,
      layout: createDeepZoom(
        { levelDimensions: reader.levelDimensions, levelDownsamples: reader.levelDownsamples, bounds: boundsOf(reader) },
        { tileSize: this.options.tileSize, overlap: this.options.overlap, limitBounds: this.options.limitBounds },
      ),
    };
  }

  /** The open slide behind an image id, for its metadata and layout (reads go through withSlide). */
  async slide(imageId: string): Promise<OpenedSlide> {
    return this.withSlide(imageId, async (s) => s);
  }

  /** The .dzi XML descriptor for OpenSeadragon. */
  async getDzi(imageId: string): Promise<string> {
    return dziXml((await this.slide(imageId)).layout, 'jpeg');
  }

  /** One JPEG tile. Concurrent requests for the same tile share one render. */
  async getTile(imageId: string, level: number, col: number, row: number): Promise<Buffer> {
    // Ask the database every time, so a cached tile of an image removed since is refused too;
    // the path is part of the key, so a relinked id never serves the old file's tiles.
    const path = await this.lookup(imageId);
    const key = `${imageId}/${level}/${col}_${row}/${path}`;
    const hit = this.tiles.get(key);
    if (hit) return hit;
    let job = this.pending.get(key);
    if (!job) {
      job = this.withSlide(imageId, async (s) => {
        const img = await this.tilePixels(s, this.regionOf(s, level, col, row));
        return img.jpeg({ quality: this.quality }).toBuffer();
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, job);
      // Only addresses that rendered are cached, so a hit needs no range check.
      job.then(
        (jpeg) => this.tiles.set(key, jpeg),
        () => undefined,
      );
    }
    return job;
  }

  /** The tile's RGB pixels before JPEG encoding (tests against the reference; PNG export). */
  async getTileRgb(imageId: string, level: number, col: number, row: number): Promise<RgbImage> {
    return this.withSlide(imageId, async (s) => {
      return toRgb(await this.tilePixels(s, this.regionOf(s, level, col, row)));
    });
  }

  private regionOf(s: OpenedSlide, level: number, col: number, row: number): TileRegion {
    const region = tileRegion(s.layout, level, col, row);
    if (!region) throw new TileNotFoundError(`no tile ${level}/${col}_${row} in image ${s.imageId}`);
    return region;
  }

  private async tilePixels(s: OpenedSlide, r: TileRegion): Promise<Sharp> {
    const ovLevel = overviewLevel(s.layout, this.options.overviewMaxSide ?? 2048);
    if (r.level <= ovLevel) {
      s.overview ??= buildOverview(s.reader, s.layout, ovLevel);
      const ov = await s.overview;
      if (ov) return tileFromOverview(ov, s.layout, r);
    }
    const [lw, lh] = r.levelSize;
    const [tw, th] = r.tileSize;
    const rgb = await s.reader.readRegion(r.slideLevel, r.l0Location[0], r.l0Location[1], lw, lh);
    const img = fromRgb(rgb);
    // DeepZoomGenerator: Image.thumbnail(z_size, LANCZOS) when the region is not already tile-sized.
    return lw !== tw || lh !== th ? img.resize(tw, th, { fit: 'fill', kernel: 'lanczos3' }) : img;
  }

  /** Forget the tiles and handle of one image (file relinked or removed from the project). */
  invalidate(imageId: string): void {
    this.tiles.deleteWhere((k) => k.startsWith(`${imageId}/`));
    this.slides.delete(imageId);
  }

  stats(): TileServiceStats {
    return {
      cachedTiles: this.tiles.size,
      cachedBytes: this.tiles.usedBudget,
      hits: this.tiles.hits,
      misses: this.tiles.misses,
      openSlides: this.slides.size,
    };
  }

  /** Drop every cached tile and close every slide (app shutdown, project switch). */
  close(): void {
    this.tiles.clear();
    this.slides.clear();
  }
}

function boundsOf(reader: SlideReader) {
  const p = reader.properties;
  const n = (k: string) => (p[k] === undefined ? undefined : Number(p[k]));
  return {
    x: n('openslide.bounds-x'),
    y: n('openslide.bounds-y'),
    width: n('openslide.bounds-width'),
    height: n('openslide.bounds-height'),
  };
}
