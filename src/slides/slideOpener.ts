// openSlide(path): the one way the app opens an image for viewing, tiles and patches. OpenSlide
// for whole-slide formats when its library loads; sharp/libvips for tiled TIFF and SVS when it
// does not (or when asked); plain images as one-level slides. `reader.readerName` says which.
import { extname } from 'node:path';
import { openPlainImage } from './imageReader';
import { assertReadableFile, openWithOpenSlide } from './openslide';
import { loadOpenSlide } from './openslideLib';
import { openWithSharp } from './sharpReader';
import { readTiffPages, TiffError, type TiffPage } from './tiffDirectory';
import { SlideOpenError, type SlideReader } from './types';

export interface OpenSlideOptions {
  /** 'openslide' (default) uses OpenSlide where it can; 'sharp' skips it (benchmarks, parity tests). */
  prefer?: 'openslide' | 'sharp';
}

/** Formats only OpenSlide can read (no usable tiled TIFF inside for libvips). */
const OPENSLIDE_ONLY = new Set(['.ndpi', '.mrxs', '.vms', '.vmu', '.svslide']);
/** TIFF-based whole-slide extensions: when such a file is no TIFF at all, say so rather than 'not an image'. */
const WSI_EXTENSIONS = new Set(['.svs', '.scn', '.bif', '.tif', '.tiff']);

export async function openSlide(path: string, options: OpenSlideOptions = {}): Promise<SlideReader> {
  await assertReadableFile(path);
  const prefer = options.prefer ?? 'openslide';
  const load = loadOpenSlide();
  const ext = extname(path).toLowerCase();

  if (prefer === 'openslide' && load.ok) {
    // detect_vendor is cheap (reads headers); null means a plain image or an unsupported file.
    const vendor = load.lib.detectVendor(path);
    if (vendor !== null) return openWithOpenSlide(path, load.lib);
  }
  if (OPENSLIDE_ONLY.has(ext)) {
    throw new SlideOpenError(path, load.ok ? 'OpenSlide does not recognise this file' : `${ext} slides need OpenSlide; ${load.message}`);
  }
  let pages: TiffPage[] | null;
  try {
    pages = await readTiffPages(path);
  } catch (err) {
    throw new SlideOpenError(path, err instanceof TiffError ? err.message : (err as Error).message);
  }
  if (pages && pages.length > 0 && pages[0].tileWidth !== null) return openWithSharp(path);
  if (!pages && WSI_EXTENSIONS.has(ext)) {
    const why = load.ok ? 'OpenSlide does not recognise it' : load.message;
    throw new SlideOpenError(path, `not a valid ${ext} whole-slide image (${why})`);
  }
  return openPlainImage(path);
}

/** Whether the OpenSlide library is usable here, and why not (for `slide-info` and the about box). */
export function openSlideAvailability(): { available: true; version: string } | { available: false; message: string } {
  const load = loadOpenSlide();
  return load.ok ? { available: true, version: load.lib.version } : { available: false, message: load.message };
}
