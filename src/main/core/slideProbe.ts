// Size, microns per pixel and a thumbnail of a whole-slide file, for import.
// sharp (libvips) reads the first TIFF page of SVS and tiled TIFF files.
import sharp, { type Metadata } from 'sharp';

export interface SlideDescription {
  width: number;
  height: number;
  mpp: number | null;
}

export async function describeSlide(path: string): Promise<SlideDescription> {
  const meta = await sharp(path, { page: 0, limitInputPixels: false }).metadata();
  if (!meta.width || !meta.height) throw new Error('cannot read the slide dimensions');
  return { width: meta.width, height: meta.height, mpp: aperioMpp(meta) };
}

/** Aperio SVS stores "MPP = 0.4990" in the TIFF ImageDescription. */
function aperioMpp(meta: Metadata): number | null {
  const description = (meta as { comments?: { keyword: string; text: string }[] }).comments?.map((c) => c.text).join('|') ?? '';
  const fromDescription = /MPP\s*=\s*([0-9.]+)/.exec(description);
  if (fromDescription) return Number(fromDescription[1]);
  return null;
}

export async function slideThumbnail(path: string, size: number): Promise<Buffer> {
  return sharp(path, { page: 0, limitInputPixels: false })
    .resize(size, size, { fit: 'inside' })
    .jpeg({ quality: 80 })
    .toBuffer();
}
