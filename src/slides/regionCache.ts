// Decoded source pixels, shared by every tile that needs them. A Deep Zoom tile (254 + 2 px at
// offsets of 254) straddles up to four of the slide's own tiles (240 or 256 px), so reading
// each tile's region on its own decodes every source tile about four times, and each read
// pays a libvips pipeline's start-up (~1 ms). Here a level is read in blocks aligned with its
// stored tiles (about 1024 px: 16 source tiles in one decode), kept in a byte-budgeted LRU,
// and every region is copied out of the blocks it covers: a burst of requests over one area
// decodes each source tile once, and a block's neighbours come for free.
//
// Only where that gives the reader's own pixels: regions whose origin falls on a whole pixel
// of the level (OpenSlide interpolates fractional origins), inside the level (outside is
// background). Anything else is a direct read, as before.
import { LruCache } from './lruCache';
import type { RgbImage, Size } from '../shared/image';

export interface BlockSource {
  /** Unique per open slide: its blocks' keys start with it. */
  readonly key: string;
  /** Block size of a level in that level's pixels, or null to read that level directly. */
  blockSize(level: number): Size | null;
  /** (x0, y0) in level-0 pixels as a whole pixel of `level`, or null where a block would not give the reader's exact pixels. */
  levelOrigin(level: number, x0: number, y0: number): Size | null;
  levelSize(level: number): Size;
  /** Pixels of a block, in level pixels (inside the level). */
  readBlock(level: number, lx: number, ly: number, w: number, h: number): Promise<RgbImage>;
  /** The reader's own read_region (level-0 origin, level size). */
  readDirect(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage>;
}

/** A region of (w, h) pixels at (left, top) of `image`. */
export interface RegionView {
  image: RgbImage;
  left: number;
  top: number;
}

export interface RegionCacheOptions {
  /** Bytes of decoded blocks kept (RGB); below four blocks every read is direct. */
  budget: number;
  /** Block decodes at once (each holds a block's memory while it runs). */
  concurrency: number;
}

export interface RegionCacheStats {
  blocks: number;
  bytes: number;
  budget: number;
  /** Blocks decoded so far (a block read again after eviction counts again). */
  decodes: number;
  /** Regions served from blocks, and read directly. */
  composed: number;
  direct: number;
}

/** A counting semaphore: at most `n` holders. */
class Limit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly n: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Copy the part of `block` (at bx, by in level pixels) that lies in the region (rx, ry, w, h) into `out` (`stride` px wide). */
function copyOverlap(
  out: Uint8Array,
  stride: number,
  rx: number,
  ry: number,
  w: number,
  h: number,
  block: RgbImage,
  bx: number,
  by: number,
): void {
  const x0 = Math.max(rx, bx);
  const x1 = Math.min(rx + w, bx + block.width);
  const y0 = Math.max(ry, by);
  const y1 = Math.min(ry + h, by + block.height);
  if (x1 <= x0 || y1 <= y0) return;
  const rowBytes = (x1 - x0) * 3;
  for (let y = y0; y < y1; y++) {
    const src = ((y - by) * block.width + (x0 - bx)) * 3;
    out.set(block.data.subarray(src, src + rowBytes), ((y - ry) * stride + (x0 - rx)) * 3);
  }
}

/** Fill the right and bottom margins of a (w, h) image held in (W, H) by repeating its last column and row (libvips 'copy'). */
function replicateEdges(out: Uint8Array, w: number, h: number, W: number, H: number): void {
  if (W > w) {
    for (let y = 0; y < h; y++) {
      const row = y * W * 3;
      const last = row + (w - 1) * 3;
      for (let x = w; x < W; x++) out.copyWithin(row + x * 3, last, last + 3);
    }
  }
  for (let y = h; y < H; y++) out.copyWithin(y * W * 3, (h - 1) * W * 3, h * W * 3);
}

export class RegionCache {
  private readonly blocks: LruCache<RgbImage>;
  private readonly pending = new Map<string, Promise<RgbImage>>();
  private readonly limit: Limit;
  private decodes = 0;
  private composed = 0;
  private direct = 0;

  constructor(private readonly options: RegionCacheOptions) {
    this.blocks = new LruCache<RgbImage>({ budget: options.budget, sizeOf: (b) => b.data.byteLength });
    this.limit = new Limit(Math.max(1, options.concurrency));
  }

  /**
   * A region of `level` with read_region semantics: (x0, y0) in level-0 pixels, (w, h) in level
   * pixels. With `padTo` (W >= w, H >= h) the image is W x H, its margins repeating the last
   * column and row (the overview pads odd sizes so it shrinks by exactly 2).
   */
  async read(src: BlockSource, level: number, x0: number, y0: number, w: number, h: number, padTo?: Size): Promise<RgbImage> {
    const [W, H] = padTo ?? [w, h];
    if (W < w || H < h) throw new RangeError(`cannot pad ${w}x${h} to ${W}x${H}`);
    const view = await this.readView(src, level, x0, y0, w, h, false, [W, H]);
    if (view.image.width === W && view.image.height === H) return view.image;
    // Direct reads come unpadded.
    const out = new Uint8Array(W * H * 3);
    copyOverlap(out, W, 0, 0, w, h, view.image, 0, 0);
    replicateEdges(out, w, h, W, H);
    return { data: out, width: W, height: H };
  }

  /**
   * The same region as a view: `image` holds it at (left, top). A region inside one block is
   * that block itself (no copy); with `allowView` false it is the region alone, composed into
   * `padTo` where it is composed from blocks (direct reads come unpadded).
   */
  async readView(
    src: BlockSource,
    level: number,
    x0: number,
    y0: number,
    w: number,
    h: number,
    allowView = true,
    padTo: Size = [w, h],
  ): Promise<RegionView> {
    const grid = src.blockSize(level);
    const origin = grid && src.levelOrigin(level, x0, y0);
    const [lw, lh] = src.levelSize(level);
    const fits = grid !== null && this.options.budget >= 4 * grid[0] * grid[1] * 3;
    if (!fits || !origin || origin[0] < 0 || origin[1] < 0 || origin[0] + w > lw || origin[1] + h > lh) {
      this.direct++;
      return { image: await src.readDirect(level, x0, y0, w, h), left: 0, top: 0 };
    }
    this.composed++;
    const [rx, ry] = origin;
    const [bw, bh] = grid;
    const [bx0, by0] = [Math.floor(rx / bw), Math.floor(ry / bh)];
    if (allowView && rx + w <= (bx0 + 1) * bw && ry + h <= (by0 + 1) * bh) {
      const block = await this.block(src, level, bx0, by0, bw, bh, lw, lh);
      return { image: block, left: rx - bx0 * bw, top: ry - by0 * bh };
    }
    const [stride, rows] = padTo;
    const out = new Uint8Array(stride * rows * 3);
    const copies: Promise<void>[] = [];
    for (let by = Math.floor(ry / bh); by * bh < ry + h; by++) {
      for (let bx = Math.floor(rx / bw); bx * bw < rx + w; bx++) {
        copies.push(
          this.block(src, level, bx, by, bw, bh, lw, lh).then((b) => copyOverlap(out, stride, rx, ry, w, h, b, bx * bw, by * bh)),
        );
      }
    }
    await Promise.all(copies);
    replicateEdges(out, w, h, stride, rows);
    return { image: { data: out, width: stride, height: rows }, left: 0, top: 0 };
  }

  private block(
    src: BlockSource,
    level: number,
    bx: number,
    by: number,
    bw: number,
    bh: number,
    lw: number,
    lh: number,
  ): Promise<RgbImage> {
    const key = `${src.key}/${level}/${bx}_${by}`;
    const hit = this.blocks.get(key);
    if (hit) return Promise.resolve(hit);
    let job = this.pending.get(key);
    if (!job) {
      const x = bx * bw;
      const y = by * bh;
      job = this.limit
        .run(() => {
          this.decodes++;
          return src.readBlock(level, x, y, Math.min(bw, lw - x), Math.min(bh, lh - y));
        })
        .then((b) => {
          this.blocks.set(key, b);
          return b;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, job);
    }
    return job;
  }

  /** Forget the blocks of one slide (closed, relinked). */
  forget(src: Pick<BlockSource, 'key'>): void {
    this.blocks.deleteWhere((k) => k.startsWith(`${src.key}/`));
  }

  stats(): RegionCacheStats {
    return {
      blocks: this.blocks.size,
      bytes: this.blocks.usedBudget,
      budget: this.options.budget,
      decodes: this.decodes,
      composed: this.composed,
      direct: this.direct,
    };
  }

  clear(): void {
    this.blocks.clear();
  }
}
