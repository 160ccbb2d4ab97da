import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BmpError, decodeBmp } from '../../../src/slides/bmp';
import { decodeImage, ImageDecodeError } from '../../../src/slides/decodeImage';
import { herlevDir } from '../../support/paths';

/** A minimal BMP writer for the cases our data does not cover (palette, top-down). */
function makeBmp(width: number, height: number, bits: 8 | 24, pixel: (x: number, y: number) => number[], topDown = false): Uint8Array {
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteSize = bits === 8 ? 256 * 4 : 0;
  const offset = 54 + paletteSize;
  const buf = Buffer.alloc(offset + stride * height);
  buf.write('BM', 0);
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bits, 28);
  if (bits === 8) for (let i = 0; i < 256; i++) buf.set([i, 255 - i, i >> 1, 0], 54 + i * 4); // B,G,R,0
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const p = pixel(x, y);
      if (bits === 8) buf[row + x] = p[0];
      else buf.set([p[2], p[1], p[0]], row + x * 3);
    }
  }
  return buf;
}

describe('BMP decoding', () => {
  it('decodes a real Herlev 24-bit BMP bottom-up, as RGB', async () => {
    const file = join(herlevDir, 'normal_columnar', readdirFirst(join(herlevDir, 'normal_columnar')));
    const bytes = readFileSync(file);
    const img = await decodeImage(file);
    expect([img.width, img.height]).toEqual([40, 40]);
    // The first stored row is the bottom row; its first pixel is B,G,R at offset 54.
    const bottomLeft = 39 * 40 * 3;
    expect([...img.data.slice(bottomLeft, bottomLeft + 3)]).toEqual([bytes[56], bytes[55], bytes[54]]);
  });

  it('decodes 8-bit palette and top-down files with odd widths (row padding)', () => {
    const pal = decodeBmp(makeBmp(5, 3, 8, (x, y) => [x * 10 + y]));
    // palette entry i = (R = i >> 1, G = 255 - i, B = i)
    const i = 4 * 10 + 2;
    const p = (2 * 5 + 4) * 3;
    expect([...pal.data.slice(p, p + 3)]).toEqual([i >> 1, 255 - i, i]);
    const top = decodeBmp(makeBmp(3, 2, 24, (x, y) => [x, y, 7], true));
    expect([...top.data]).toEqual([0, 0, 7, 1, 0, 7, 2, 0, 7, 0, 1, 7, 1, 1, 7, 2, 1, 7]);
  });

  it('rejects truncated and compressed files with a reason', () => {
    const ok = makeBmp(4, 4, 24, () => [1, 2, 3]);
    expect(() => decodeBmp(ok.subarray(0, 70))).toThrow(BmpError);
    const rle = Buffer.from(ok);
    rle.writeUInt32LE(1, 30);
    expect(() => decodeBmp(rle)).toThrow(/compressed BMP/);
  });

  it('reports an unreadable file as a value with the path', async () => {
    await expect(decodeImage('/nonexistent/x.png')).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage('/nonexistent/x.png')).rejects.toThrow(/x\.png: file not found/);
  });
});

function readdirFirst(dir: string): string {
  return readdirSync(dir).sort()[0];
}
