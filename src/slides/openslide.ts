// SlideReader over OpenSlide (koffi binding in openslideLib.ts). Reads run on koffi's worker
// threads (OpenSlide handles are thread-safe), so several tile requests proceed at once and
// the event loop is never blocked by JPEG decoding inside OpenSlide.
import { stat } from 'node:fs/promises';
import { argbToRgb, argbToRgbYielding } from './argb';
import { loadOpenSlide, type OpenSlideLib, type OsrPointer } from './openslideLib';
import { checkRegion, parseBackground, positiveNumber, SlideOpenError, SlideReadError, type Mpp, type SlideReader } from './types';
import type { RgbImage, Size } from '../shared/image';
import { MAX_REGION_PIXELS } from './pixelLimits';

export { loadOpenSlide } from './openslideLib';

const BAND_PIXELS = 1 << 20;
const MAX_BANDS = 8;

/** The file exists and is a regular file, else a SlideOpenError naming it. */
export async function assertReadableFile(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new SlideOpenError(path, 'not a regular file');
  } catch (err) {
    if (err instanceof SlideOpenError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SlideOpenError(path, code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
}

/** Open `path` with OpenSlide. Throws SlideOpenError (kind 'unreadable-slide') with OpenSlide's reason. */
export async function openWithOpenSlide(path: string, lib?: OpenSlideLib): Promise<OpenSlideReader> {
  if (!lib) {
    const load = loadOpenSlide();
    if (!load.ok) throw new SlideOpenError(path, load.message);
    lib = load.lib;
  }
  await assertReadableFile(path);
  const osr = await lib.openAsync(path);
  if (osr === null) throw new SlideOpenError(path, 'not a whole-slide format OpenSlide recognises');
  const error = lib.getError(osr);
  if (error !== null) {
    lib.close(osr);
    throw new SlideOpenError(path, `OpenSlide: ${error}`);
  }
  return new OpenSlideReader(lib, osr, path);
}

export class OpenSlideReader implements SlideReader {
  readonly readerName = 'openslide' as const;
  readonly dimensions: Size;
  readonly levelCount: number;
  readonly levelDimensions: readonly Size[];
  readonly levelDownsamples: readonly number[];
  readonly mpp: Mpp | null;
  readonly vendor: string | null;
  readonly objectivePower: number | null;
  readonly background: readonly [number, number, number];
  readonly properties: Readonly<Record<string, string>>;
  readonly associatedImageNames: readonly string[];
  private osr: OsrPointer | null;
  private inFlight = 0;
  private closeRequested = false;

  constructor(
    private readonly lib: OpenSlideLib,
    osr: OsrPointer,
    readonly path: string,
  ) {
    this.osr = osr;
    this.levelCount = lib.getLevelCount(osr);
    this.levelDimensions = Array.from({ length: this.levelCount }, (_, l) => lib.getLevelDimensions(osr, l));
    this.levelDownsamples = Array.from({ length: this.levelCount }, (_, l) => lib.getLevelDownsample(osr, l));
    this.dimensions = this.levelDimensions[0];
    const props: Record<string, string> = {};
    for (const name of lib.getPropertyNames(osr)) props[name] = lib.getPropertyValue(osr, name) ?? '';
    this.properties = props;
    this.mpp = mppOf(props);
    this.vendor = props['openslide.vendor'] ?? null;
    this.objectivePower = positiveNumber(props['openslide.objective-power']);
    this.background = parseBackground(props['openslide.background-color']);
    this.associatedImageNames = lib.getAssociatedImageNames(osr);
  }

  get libraryVersion(): string {
    return this.lib.version;
  }

  async readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage> {
    checkRegion(this, level, x0, y0, w, h);
    const argb = new Uint8Array(w * h * 4);
    const ds = this.levelDownsamples[level];
    // OpenSlide paints one region on one thread; a large one (an overview, a whole-slide
    // thumbnail) is read as horizontal bands in parallel. Only where a band's level-0 origin
    // is exact (integer downsample), since OpenSlide interpolates at fractional offsets.
    const bands = w * h >= 4 * BAND_PIXELS && Number.isInteger(ds) ? Math.min(MAX_BANDS, Math.ceil((w * h) / BAND_PIXELS)) : 1;
    const bandRows = Math.ceil(h / bands);
    await this.withHandle(async (osr) => {
      const reads: Promise<void>[] = [];
      for (let top = 0; top < h; top += bandRows) {
        const rows = Math.min(bandRows, h - top);
        reads.push(this.lib.readRegionAsync(osr, argb.subarray(top * w * 4, (top + rows) * w * 4), x0, y0 + top * ds, level, w, rows));
      }
      await Promise.all(reads);
    });
    const rgb = w * h > BAND_PIXELS ? await argbToRgbYielding(argb, w * h, this.background) : argbToRgb(argb, w * h, this.background);
    return { data: rgb, width: w, height: h };
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    if (!this.associatedImageNames.includes(name)) throw new SlideReadError(this.path, `no associated image named '${name}'`);
    const osr = this.handle();
    const [w, h] = this.lib.getAssociatedImageDimensions(osr, name);
    if (w <= 0 || h <= 0) throw new SlideReadError(this.path, `associated image '${name}' has no size`);
    if (w * h > MAX_REGION_PIXELS) throw new SlideReadError(this.path, `associated image '${name}' is too large (${w} x ${h})`);
    const argb = new Uint8Array(w * h * 4);
    await this.withHandle((p) => this.lib.readAssociatedImageAsync(p, name, argb));
    return { data: argbToRgb(argb, w * h, this.background), width: w, height: h };
  }

  /** Closes now, or when the last in-flight read returns (closing under a worker thread would crash). */
  close(): void {
    this.closeRequested = true;
    if (this.inFlight === 0) this.release();
  }

  private handle(): OsrPointer {
    if (this.osr === null || this.closeRequested) throw new SlideReadError(this.path, 'slide is closed');
    return this.osr;
  }

  private async withHandle(read: (osr: OsrPointer) => Promise<void>): Promise<void> {
    const osr = this.handle();
    this.inFlight++;
    try {
      await read(osr);
      // OpenSlide's errors latch: once set, every later read of this handle fails too.
      const error = this.lib.getError(osr);
      if (error !== null) throw new SlideReadError(this.path, `OpenSlide: ${error}`);
    } finally {
      this.inFlight--;
      if (this.closeRequested && this.inFlight === 0) this.release();
    }
  }

  private release(): void {
    if (this.osr !== null) {
      this.lib.close(this.osr);
      this.osr = null;
    }
  }
}

/** openslide.mpp-x/y, or (OpenSlide 3.4 on generic TIFF, which sets no mpp) the TIFF resolution as OpenSlide 4 derives it. */
export function mppOf(props: Readonly<Record<string, string>>): Mpp | null {
  const mx = positiveNumber(props['openslide.mpp-x']);
  const my = positiveNumber(props['openslide.mpp-y']);
  if (mx !== null) return { x: mx, y: my ?? mx };
  const unit = props['tiff.ResolutionUnit'] === 'centimeter' ? 10_000 : props['tiff.ResolutionUnit'] === 'inch' ? 25_400 : null;
  const xr = positiveNumber(props['tiff.XResolution']);
  const yr = positiveNumber(props['tiff.YResolution']);
  return unit !== null && xr !== null && yr !== null ? { x: unit / xr, y: unit / yr } : null;
}
