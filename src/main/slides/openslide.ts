// SlideReader over OpenSlide (koffi binding in openslideLib.ts). Reads run on koffi's worker
// threads (OpenSlide handles are thread-safe), so several tile requests proceed at once and
// the event loop is never blocked by JPEG decoding inside OpenSlide.
import { stat } from 'node:fs/promises';
import { argbToRgb } from './argb';
import { loadOpenSlide, type OpenSlideLib, type OsrPointer } from './openslideLib';
import {
  checkRegion,
  parseBackground,
  positiveNumber,
  SlideOpenError,
  SlideReadError,
  type Mpp,
  type RgbImage,
  type SlideReader,
  type Size,
} from './types';

export { loadOpenSlide } from './openslideLib';

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
    const mx = positiveNumber(props['openslide.mpp-x']);
    const my = positiveNumber(props['openslide.mpp-y']);
    this.mpp = mx !== null && my !== null ? { x: mx, y: my } : mx !== null ? { x: mx, y: mx } : null;
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
    await this.withHandle((osr) => this.lib.readRegionAsync(osr, argb, x0, y0, level, w, h));
    return { data: argbToRgb(argb, w * h, this.background), width: w, height: h };
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    if (!this.associatedImageNames.includes(name)) throw new SlideReadError(this.path, `no associated image named '${name}'`);
    const osr = this.handle();
    const [w, h] = this.lib.getAssociatedImageDimensions(osr, name);
    if (w <= 0 || h <= 0) throw new SlideReadError(this.path, `associated image '${name}' has no size`);
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
