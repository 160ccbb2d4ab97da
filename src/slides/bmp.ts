// A small BMP decoder: sharp (libvips) does not read BMP, and SIPaKMeD and Herlev ship BMP.
// Supports BITMAPINFOHEADER and later headers, 1/4/8-bit palettes, 24-bit and 32-bit
// uncompressed (BI_RGB and BI_BITFIELDS with the usual masks), bottom-up and top-down rows.
import type { RgbImage } from '../shared/image';
import { imageSizeProblem } from './pixelLimits';

export class BmpError extends Error {
  readonly kind = 'unsupported-bmp';
}

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (!isBmp(bytes) || bytes.length < 54) throw new BmpError('not a BMP file (missing "BM" header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new BmpError(`BMP core headers (size ${headerSize}) are not supported`);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0 || width > 65535 || height > 65535) {
    throw new BmpError(`BMP has an invalid size ${width} x ${height}`);
  }
  // 0 = BI_RGB, 3 = BI_BITFIELDS (only for 32-bit with the standard BGRA masks).
  if (compression !== 0 && !(compression === 3 && bitsPerPixel === 32)) {
    throw new BmpError(`compressed BMP (compression ${compression}) is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bitsPerPixel)) {
    throw new BmpError(`${bitsPerPixel}-bit BMP is not supported`);
  }
  const tooLarge = imageSizeProblem(width, height);
  if (tooLarge) throw new BmpError(tooLarge);
  const rowStride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + rowStride * height > bytes.length) throw new BmpError('BMP file is truncated');

  let palette: Uint8Array | null = null;
  if (bitsPerPixel <= 8) {
    const coloursUsed = view.getUint32(46, true) || 1 << bitsPerPixel;
    const paletteStart = 14 + headerSize;
    palette = bytes.subarray(paletteStart, paletteStart + coloursUsed * 4); // B,G,R,0 entries
  }

  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = pixelOffset + (topDown ? y : height - 1 - y) * rowStride;
    const dst = y * width * 3;
    for (let x = 0; x < width; x++) {
      let b: number, g: number, r: number;
      if (bitsPerPixel >= 24) {
        const p = srcRow + x * (bitsPerPixel / 8);
        b = bytes[p];
        g = bytes[p + 1];
        r = bytes[p + 2];
      } else {
        const bitPos = x * bitsPerPixel;
        const byte = bytes[srcRow + (bitPos >> 3)];
        const shift = 8 - bitsPerPixel - (bitPos & 7);
        const index = (byte >> shift) & ((1 << bitsPerPixel) - 1);
        b = palette![index * 4] ?? 0;
        g = palette![index * 4 + 1] ?? 0;
        r = palette![index * 4 + 2] ?? 0;
      }
      out[dst + x * 3] = r;
      out[dst + x * 3 + 1] = g;
      out[dst + x * 3 + 2] = b;
    }
  }
  return { data: out, width, height };
}
