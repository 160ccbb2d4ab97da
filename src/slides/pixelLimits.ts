// How many pixels one decode may produce, and which formats are images at all. A plain image
// (PNG, JPEG, TIFF strips, WebP, BMP) is decoded whole, so its size is checked from its header
// before any pixel is decoded: a 31 KB PNG can declare 16000 x 16000 (768 MB of RGB). Vector
// and document formats (SVG, PDF) that libvips would render at any size they ask for are
// refused. Whole-slide files are read by region, never whole, each region within
// MAX_REGION_PIXELS (an overview or a thumbnail of a large level is read in bands).
import type { SharpOptions } from 'sharp';

/** The largest plain image: 32 MP (a 6.5k x 5k field of view; larger scans belong in a pyramidal TIFF). */
export const MAX_IMAGE_PIXELS = 32 * 1024 * 1024;
/** The largest single region read of a slide (256 MB of RGBA from OpenSlide). */
export const MAX_REGION_PIXELS = 64 * 1024 * 1024;

/** Formats of sharp's metadata that are raster images CytoTune accepts. */
const RASTER_FORMATS = new Set(['png', 'jpeg', 'tiff', 'webp']);

/** libvips options for decoding a plain image: its own limit too, in case a header lies. */
export const plainImageInput: SharpOptions = { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS };

const megapixels = (n: number) => `${Math.round(n / 1e6)} MP`;

export function imageSizeProblem(width: number, height: number): string | null {
  if (!(width >= 1 && height >= 1)) return `the image has no size (${width} x ${height})`;
  if (width * height <= MAX_IMAGE_PIXELS) return null;
  return (
    `${width} x ${height} px (${megapixels(width * height)}) is more than the ${Math.round(MAX_IMAGE_PIXELS / 2 ** 20)} MP a plain image may have; ` +
    'convert it to a tiled pyramidal TIFF (vips tiffsave in.png out.tif --tile --pyramid --compression jpeg) to open it as a slide'
  );
}

export function formatProblem(format: string | undefined): string | null {
  if (format && RASTER_FORMATS.has(format)) return null;
  if (format === 'svg') return 'SVG is a vector drawing, not accepted as an image (export it to PNG at the size you need)';
  if (format === 'pdf') return 'PDF is a document, not accepted as an image';
  return `${format ? format.toUpperCase() : 'this format'} is not accepted as an image (PNG, JPEG, TIFF, WebP and BMP are)`;
}
