// The one conversion between sharp (libvips) and our RgbImage: every decode, region, tile and
// resample that leaves sharp goes through `toRgb`, and every RgbImage that enters it through
// `fromRgb`, so the colourspace, the channel check and the zero-copy view are written once.
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../shared/image';

/** Interleaved 8-bit sRGB pixels of a sharp pipeline (alpha must be removed or flattened first). */
export async function toRgb(img: Sharp): Promise<RgbImage> {
  const { data, info } = await img.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels (RGB), got ${info.channels}`);
  // A view, not a copy: the Buffer already owns exactly these bytes.
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** A sharp pipeline reading an RgbImage. */
export function fromRgb(image: RgbImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}
