// Fallback SlideReader on sharp/libvips for tiled (pyramidal) TIFF and JPEG-compressed Aperio
// SVS, used where OpenSlide is missing. Each pyramid level is a TIFF page; libvips decodes only
// the tiles a region touches, and its operation cache keeps the opened page between calls.
import sharp from 'sharp';
import { assertReadableFile } from './openslide';
import { readTiffPages, type TiffPage } from './tiffDirectory';
import { checkRegion, positiveNumber, SlideOpenError, SlideReadError, type Mpp, type SlideReader } from './types';
import type { RgbImage, Size } from '../shared/image';
import { toRgb } from './sharpRgb';
import { MAX_REGION_PIXELS } from './pixelLimits';

/** Aperio's ImageDescription: 'Aperio Image Library ...\r\n<summary>|Key = Value|Key = Value'. */
export function parseAperioDescription(desc: string): Record<string, string> {
  const props: Record<string, string> = {};
  const parts = desc.split('|');
  for (const part of parts.slice(1)) {
    const eq = part.indexOf(' = ');
    if (eq > 0) props[`aperio.${part.slice(0, eq).trim()}`] = part.slice(eq + 3).trim();
  }
  return props;
}

function associatedName(page: TiffPage, aperio: boolean): string | null {
  if (!aperio) return null;
  const desc = page.description ?? '';
  if (/\nlabel /.test(desc)) return 'label';
  if (/\nmacro /.test(desc)) return 'macro';
  // Aperio: the first untiled page after level 0 is the thumbnail.
  if (page.index === 1 && page.tileWidth === null) return 'thumbnail';
  return null;
}

/** Pyramid levels: page 0 and the following tiled, smaller pages with the same aspect (as OpenSlide's tiff readers). */
function pyramidPages(pages: TiffPage[], aperio: boolean): TiffPage[] {
  const levels = [pages[0]];
  for (const p of pages.slice(1)) {
    const prev = levels[levels.length - 1];
    if (p.tileWidth === null || p.width >= prev.width || p.height >= prev.height) continue;
    if (!aperio && (p.subfileType & 1) === 0 && p.index !== 0) continue;
    if (p.subfileType & 4) continue; // transparency masks
    const ratio = pages[0].width / pages[0].height / (p.width / p.height);
    if (Math.abs(ratio - 1) > 0.02) continue;
    levels.push(p);
  }
  return levels;
}

function resolutionMpp(page: TiffPage): Mpp | null {
  const unit = page.resolutionUnit === 3 ? 10_000 : page.resolutionUnit === 2 ? 25_400 : null;
  if (unit === null || !page.xResolution || !page.yResolution) return null;
  return { x: unit / page.xResolution, y: unit / page.yResolution };
}

/** Open a tiled TIFF or SVS with sharp. Throws SlideOpenError when it is neither (use the plain image reader). */
export async function openWithSharp(path: string): Promise<SharpSlideReader> {
  await assertReadableFile(path);
  const pages = await readTiffPages(path);
  if (!pages || pages.length === 0) throw new SlideOpenError(path, 'not a TIFF file');
  if (pages[0].tileWidth === null) throw new SlideOpenError(path, 'not a tiled TIFF (open it as a plain image)');
  const unsupported = pages[0].compression;
  if (unsupported === 33003 || unsupported === 33005) {
    throw new SlideOpenError(path, 'JPEG 2000 compressed SVS needs OpenSlide (install libopenslide0)');
  }
  const reader = new SharpSlideReader(path, pages);
  try {
    // Decode one pixel so a file libvips cannot read fails here, not at the first tile.
    await reader.readRegion(0, 0, 0, 1, 1);
  } catch (err) {
    throw new SlideOpenError(path, `libvips: ${((err as SlideReadError).reason ?? (err as Error).message).split('\n')[0]}`);
  }
  return reader;
}

export class SharpSlideReader implements SlideReader {
  readonly readerName = 'sharp' as const;
  readonly dimensions: Size;
  readonly levelCount: number;
  readonly levelDimensions: readonly Size[];
  readonly levelDownsamples: readonly number[];
  readonly mpp: Mpp | null;
  readonly vendor: string;
  readonly objectivePower: number | null;
  readonly background = [255, 255, 255] as const;
  readonly properties: Readonly<Record<string, string>>;
  readonly associatedImageNames: readonly string[];
  private readonly levelPages: number[];
  private readonly associatedPages = new Map<string, number>();
  private closed = false;

  constructor(
    readonly path: string,
    pages: TiffPage[],
  ) {
    const desc0 = pages[0].description ?? '';
    const aperio = desc0.startsWith('Aperio');
    const levels = pyramidPages(pages, aperio);
    this.levelPages = levels.map((p) => p.index);
    this.levelCount = levels.length;
    this.levelDimensions = levels.map((p) => [p.width, p.height] as Size);
    this.dimensions = this.levelDimensions[0];
    const [w0, h0] = this.dimensions;
    // OpenSlide's rule when the format records no downsample.
    this.levelDownsamples = levels.map((p) => (w0 / p.width + h0 / p.height) / 2);
    this.vendor = aperio ? 'aperio' : 'generic-tiff';
    const props: Record<string, string> = aperio ? parseAperioDescription(desc0) : {};
    if (desc0) props['tiff.ImageDescription'] = desc0;
    props['openslide.vendor'] = this.vendor;
    for (const p of pages) {
      const name = associatedName(p, aperio);
      if (name && !this.levelPages.includes(p.index)) this.associatedPages.set(name, p.index);
    }
    this.associatedImageNames = [...this.associatedPages.keys()].sort();
    const aperioMpp = positiveNumber(props['aperio.MPP']);
    this.mpp = aperioMpp !== null ? { x: aperioMpp, y: aperioMpp } : resolutionMpp(pages[0]);
    if (this.mpp) {
      props['openslide.mpp-x'] = String(this.mpp.x);
      props['openslide.mpp-y'] = String(this.mpp.y);
    }
    this.objectivePower = positiveNumber(props['aperio.AppMag']);
    if (this.objectivePower !== null) props['openslide.objective-power'] = String(this.objectivePower);
    this.properties = props;
  }

  async readRegion(level: number, x0: number, y0: number, w: number, h: number): Promise<RgbImage> {
    checkRegion(this, level, x0, y0, w, h);
    if (this.closed) throw new SlideReadError(this.path, 'slide is closed');
    const ds = this.levelDownsamples[level];
    const [lw, lh] = this.levelDimensions[level];
    const lx = Math.round(x0 / ds);
    const ly = Math.round(y0 / ds);
    // Clip to the level, then pad with background, as OpenSlide returns transparent pixels outside.
    const left = Math.max(0, lx);
    const top = Math.max(0, ly);
    const right = Math.min(lw, lx + w);
    const bottom = Math.min(lh, ly + h);
    const [r, g, b] = this.background;
    if (right <= left || bottom <= top) return solid(w, h, this.background);
    try {
      let img = sharp(this.path, { page: this.levelPages[level], sequentialRead: false, limitInputPixels: false, failOn: 'error' })
        .extract({ left, top, width: right - left, height: bottom - top })
        .flatten({ background: { r, g, b } });
      if (right - left !== w || bottom - top !== h) {
        img = sharp(await img.toColourspace('srgb').raw().toBuffer(), {
          raw: { width: right - left, height: bottom - top, channels: 3 },
        }).extend({
          left: left - lx,
          top: top - ly,
          right: lx + w - right,
          bottom: ly + h - bottom,
          background: { r, g, b },
        });
      }
      const region = await toRgb(img);
      if (region.width !== w || region.height !== h) throw new Error(`unexpected ${region.width}x${region.height} region`);
      return region;
    } catch (err) {
      throw new SlideReadError(this.path, (err as Error).message.split('\n')[0]);
    }
  }

  async readAssociatedImage(name: string): Promise<RgbImage> {
    const page = this.associatedPages.get(name);
    if (page === undefined) throw new SlideReadError(this.path, `no associated image named '${name}'`);
    try {
      // Associated images (label, macro) are decoded whole: bounded like a region.
      return await toRgb(
        sharp(this.path, { page, failOn: 'error', limitInputPixels: MAX_REGION_PIXELS }).flatten({ background: '#ffffff' }),
      );
    } catch (err) {
      throw new SlideReadError(this.path, (err as Error).message.split('\n')[0]);
    }
  }

  close(): void {
    this.closed = true;
  }
}

export function solid(w: number, h: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
  }
  return { data, width: w, height: h };
}
