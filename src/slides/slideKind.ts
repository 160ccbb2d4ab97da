// Whether a file is a whole-slide image (read by region, shown as a pyramid) or a plain image:
// slide formats by extension, and tiled TIFFs (pyramidal scans, CytoTune's synthetic slides),
// which OpenSlide also opens as slides.
import { extname } from 'node:path';
import { readTiffPages } from './tiffDirectory';

export const slideExtensions = new Set(['.svs', '.ndpi', '.mrxs', '.scn', '.vms', '.vmu', '.bif', '.svslide']);

/** Reads only the TIFF directories of a .tif/.tiff; an unreadable file is left for the decoder to report. */
export async function isWholeSlide(path: string): Promise<boolean> {
  const ext = extname(path).toLowerCase();
  if (slideExtensions.has(ext)) return true;
  if (ext !== '.tif' && ext !== '.tiff') return false;
  const pages = await readTiffPages(path).catch(() => null);
  return Boolean(pages?.length && pages[0].tileWidth !== null);
}
