// Deep Zoom tiles on demand, addressed by image id (never by path): the database resolves an
// id to a file through `resolvePath`; anything it does not know, and any address outside the
// pyramid, is a 'not-found' error. Tiles follow openslide-python's DeepZoomGenerator: read the
// region at the best slide level, resize with Lanczos to the tile size, encode JPEG.
// Encoded tiles live in a byte-budgeted LRU; decoded source blocks in another (regionCache.ts);
// open slides in a small LRU of handles; renders are queued by tileScheduler.ts.
//
// Two layouts per slide. 'default' is DeepZoomGenerator's (254 + 1 px), pixel for pixel.
// 'native' (what the viewer asks for) puts the Deep Zoom grid on the slide's own JPEG tiles (240 px, overlap 0
// for Aperio): where a Deep Zoom tile is a stored tile, its bytes go out as stored
// (tiffTiles.ts), no decode, no re-encode. Slides without such tiles get the default layout.
import { createDeepZoom, dziXml, tileRegion, type DeepZoomLayout, type TileRegion } from '../shared/deepZoom';
import { LruCache } from './lruCache';
import type { Overview } from './overview';
import { RegionCache, type RegionCacheStats } from './regionCache';
import { openSlide } from './slideOpener';
import { openSlidePixels, type SlidePixels } from './slidePixels';
import { coarseTiles, neighbours, storedTile, tilePixels, type PixelOptions, type TileAddress } from './tileRender';
import { defaultConcurrency, TileAbortedError, TileScheduler, type TileSchedulerStats } from './tileScheduler';
import type { SlideReader } from './types';
import type { RgbImage } from '../shared/image';
import { toRgb } from './sharpRgb';

export { TileAbortedError };

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
  /** Byte budget of decoded source blocks (default 64 MiB; below ~12 MB every read is direct). */
  regionCacheBytes?: number;
  /** Renders at once (default: cores + 1, at most the libuv pool's UV_THREADPOOL_SIZE, 4 unless set). */
  concurrency?: number;
  /**
   * Neighbours rendered ahead of a requested tile, as a radius in tiles (default 1: the 8 around
   * it; 0 disables). They only use idle render slots and land in the tile cache.
   */
  speculate?: number;
}

export type TileLayoutName = 'default' | 'native';

export interface TileRequestOptions {
  /** 'native': the slide's own tile grid, passed through where it can be (default 'default'). */
  layout?: TileLayoutName;
  /** Aborted when the client went away: a render not yet started is dropped. */
  signal?: AbortSignal;
}

export interface OpenedSlide {
  imageId: string;
  path: string;
  reader: SlideReader;
  layout: DeepZoomLayout;
  /** The passthrough layout (native tile size, overlap 0), or the default one where the slide has none. */
  nativeLayout: DeepZoomLayout;
  pixels: SlidePixels;
  /** Built on the first coarse tile; null when the slide level is too large to hold. */
  overview?: Promise<Overview | null>;
}

export interface TileServiceStats {
  cachedTiles: number;
  cachedBytes: number;
  hits: number;
  misses: number;
  openSlides: number;
  regions: RegionCacheStats;
  queue: TileSchedulerStats;
  /** Tiles sent as stored in the file (native layout). */
  passthrough: number;
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

export class TileService {
  private readonly tiles: LruCache<Buffer>;
  private readonly slides: LruCache<SlideEntry>;
  private readonly regions: RegionCache;
  private readonly scheduler: TileScheduler;
  private readonly quality: number;
  private readonly radius: number;
  private opened = 0;
  private passthrough = 0;
  /** Bumped by close(): renders and guesses of an earlier generation never reopen a slide. */
  private generation = 0;

  constructor(private readonly options: TileServiceOptions) {
    this.quality = options.quality ?? 85;
    const cacheBytes = options.cacheBytes ?? 256 * 1024 * 1024;
    this.tiles = new LruCache<Buffer>({ budget: cacheBytes, sizeOf: (b) => b.byteLength });
    this.slides = new LruCache<SlideEntry>({
      budget: options.maxOpenSlides ?? 8,
      sizeOf: () => 1,
      onEvict: (_id, e) => {
        e.evicted = true;
        this.closeWhenIdle(e);
      },
    });
    const concurrency = options.concurrency ?? defaultConcurrency();
    this.scheduler = new TileScheduler({ concurrency });
    this.regions = new RegionCache({ budget: options.regionCacheBytes ?? 64 * 1024 * 1024, concurrency });
    // Guesses need somewhere to land.
    this.radius = cacheBytes > 0 ? (options.speculate ?? 1) : 0;
  }

  private closeWhenIdle(e: SlideEntry): void {
    if (e.evicted && e.leases === 0)
      void e.opened.then(
        (s) => {
          s.reader.close();
          s.pixels.close();
          this.regions.forget(s.pixels);
        },
        () => undefined,
      );
  }

  /**
   * Run `fn` with the slide behind `imageId` open; the handle stays open until `fn` settles even
   * if another slide evicts it from the LRU meanwhile. Patch extraction uses this too.
   */
  async withSlide<T>(imageId: string, fn: (s: OpenedSlide) => Promise<T>, generation?: number): Promise<T> {
    const path = await this.lookup(imageId);
    if (generation !== undefined && generation !== this.generation) throw new TileAbortedError();
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
      this.closeWhenIdle(e);
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
    const pixels = await openSlidePixels(reader, `${imageId}#${++this.opened}`);
    const geometry = { levelDimensions: reader.levelDimensions, levelDownsamples: reader.levelDownsamples, bounds: boundsOf(reader) };
    const { limitBounds } = this.options;
    const layout = createDeepZoom(geometry, { tileSize: this.options.tileSize, overlap: this.options.overlap, limitBounds });
    const native = pixels.nativeTileSize;
    return {
      imageId,
      path,
      reader,
      pixels,
      layout,
      nativeLayout: native !== null ? createDeepZoom(geometry, { tileSize: native, overlap: 0, limitBounds }) : layout,
    };
  }

  /** The open slide behind an image id, for its metadata and layout (reads go through withSlide). */
  async slide(imageId: string): Promise<OpenedSlide> {
    return this.withSlide(imageId, async (s) => s);
  }

  /** The .dzi XML descriptor for OpenSeadragon. */
  async getDzi(imageId: string, options: Pick<TileRequestOptions, 'layout'> = {}): Promise<string> {
    return dziXml(layoutOf(await this.slide(imageId), options.layout), 'jpeg');
  }

  /**
   * One JPEG tile. Concurrent requests for the same tile share one render; a request whose
   * `signal` aborts rejects with TileAbortedError, and its render is dropped if not started.
   */
  async getTile(imageId: string, level: number, col: number, row: number, options: TileRequestOptions = {}): Promise<Buffer> {
    // Ask the database every time, so a cached tile of an image removed since is refused too;
    // the path is part of the key, so a relinked id never serves the old file's tiles.
    const path = await this.lookup(imageId);
    const name = options.layout ?? 'default';
    const key = tileKey(imageId, name, level, col, row, path);
    const hit = this.tiles.get(key);
    if (hit) return hit;
    const gen = this.generation;
    return this.scheduler.run(key, () => this.render(imageId, name, level, col, row, key, true, gen), options.signal);
  }

  /** The tile's RGB pixels before JPEG encoding (tests against the reference; PNG export). */
  async getTileRgb(
    imageId: string,
    level: number,
    col: number,
    row: number,
    options: Pick<TileRequestOptions, 'layout'> = {},
  ): Promise<RgbImage> {
    return this.withSlide(imageId, async (s) => {
      const layout = layoutOf(s, options.layout);
      return toRgb(await tilePixels(s, layout, regionOf(s, layout, level, col, row), this.pixelOptions()));
    });
  }

  /** Render one tile into the cache; a requested one also queues guesses at its neighbours. */
  private render(
    imageId: string,
    name: TileLayoutName,
    level: number,
    col: number,
    row: number,
    key: string,
    requested: boolean,
    gen: number,
  ): Promise<Buffer> {
    return this.withSlide(
      imageId,
      async (s) => {
        const layout = layoutOf(s, name);
        const r = regionOf(s, layout, level, col, row);
        if (requested) this.guess(s, name, gen, neighbours(layout, r, this.radius));
        let jpeg = await storedTile(s, layout, r);
        if (jpeg) this.passthrough++;
        else {
          const img = await tilePixels(s, layout, r, this.pixelOptions({ s, name, layout, gen }));
          // No Huffman optimisation (as PIL and libvips save tiles): ~30% faster, ~15% larger, served locally.
          jpeg = await img.jpeg({ quality: this.quality, optimiseCoding: false }).toBuffer();
        }
        // Only addresses that rendered are cached, so a hit needs no range check.
        if (gen === this.generation) this.tiles.set(key, jpeg);
        return jpeg;
      },
      gen,
    );
  }

  /** `prefetch`: whose coarse levels to queue once the overview is built (none for getTileRgb). */
  private pixelOptions(prefetch?: { s: OpenedSlide; name: TileLayoutName; layout: DeepZoomLayout; gen: number }): PixelOptions {
    return {
      regions: this.regions,
      overviewMaxSide: this.options.overviewMaxSide ?? 2048,
      onOverview: (overview, ovLevel) => {
        if (!prefetch || this.radius === 0) return;
        const { s, name, layout, gen } = prefetch;
        // A viewer opening a slide shows every coarse level first: cut them all while it asks.
        void overview.then((ov) => ov && this.guess(s, name, gen, coarseTiles(layout, ovLevel), true)).catch(() => undefined);
      },
    };
  }

  /** Queue guessed renders of tiles not cached yet; with `ifRoom` stop where the guess queue is full. */
  private guess(s: OpenedSlide, name: TileLayoutName, gen: number, tiles: Iterable<TileAddress>, ifRoom = false): void {
    if (this.radius === 0 || gen !== this.generation) return;
    for (const { level, col, row } of tiles) {
      const key = tileKey(s.imageId, name, level, col, row, s.path);
      if (this.tiles.has(key)) continue;
      const render = () => this.render(s.imageId, name, level, col, row, key, false, gen);
      if (!this.scheduler.speculate(key, render, { ifRoom }) && ifRoom) return;
    }
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
      regions: this.regions.stats(),
      queue: this.scheduler.stats(),
      passthrough: this.passthrough,
    };
  }

  /** Drop every queued render and cached tile, and close every slide (app shutdown, project switch). */
  close(): void {
    this.generation++;
    this.scheduler.cancelQueued();
    this.tiles.clear();
    this.slides.clear();
    this.regions.clear();
  }
}

function tileKey(imageId: string, layout: TileLayoutName, level: number, col: number, row: number, path: string): string {
  return `${imageId}/${layout}/${level}/${col}_${row}/${path}`;
}

function layoutOf(s: OpenedSlide, name: TileLayoutName = 'default'): DeepZoomLayout {
  return name === 'native' ? s.nativeLayout : s.layout;
}

function regionOf(s: OpenedSlide, layout: DeepZoomLayout, level: number, col: number, row: number): TileRegion {
  const region = tileRegion(layout, level, col, row);
  if (!region) throw new TileNotFoundError(`no tile ${level}/${col}_${row} in image ${s.imageId}`);
  return region;
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
