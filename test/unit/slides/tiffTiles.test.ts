import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { TiffPage } from '../../../src/slides/tiffDirectory';
import { isPassthroughPage, jpegFrameSize, standaloneJpeg } from '../../../src/slides/tiffTiles';

/** Split a JPEG into what a TIFF stores: JPEGTables (SOI, DQT/DHT, EOI) and an abbreviated tile. */
function splitTables(jpeg: Buffer): { tables: Buffer; tile: Buffer } {
  const tables: Buffer[] = [Buffer.from([0xff, 0xd8])];
  const tile: Buffer[] = [Buffer.from([0xff, 0xd8])];
  let i = 2;
  while (jpeg[i + 1] !== 0xda) {
    const len = jpeg.readUInt16BE(i + 2);
    const segment = jpeg.subarray(i, i + 2 + len);
    // APPn markers (JFIF) stay out: a TIFF's tiles carry none.
    if (jpeg[i + 1] === 0xdb || jpeg[i + 1] === 0xc4) tables.push(segment);
    else if (jpeg[i + 1] < 0xe0 || jpeg[i + 1] > 0xef) tile.push(segment);
    i += 2 + len;
  }
  tables.push(Buffer.from([0xff, 0xd9]));
  tile.push(jpeg.subarray(i));
  return { tables: Buffer.concat(tables), tile: Buffer.concat(tile) };
}

function page(extra: Partial<TiffPage>): TiffPage {
  return {
    index: 0,
    width: 64,
    height: 64,
    tileWidth: 32,
    tileHeight: 32,
    compression: 7,
    subfileType: 0,
    description: null,
    xResolution: null,
    yResolution: null,
    resolutionUnit: null,
    photometric: 6,
    samplesPerPixel: 3,
    bitsPerSample: 8,
    planarConfig: 1,
    jpegTables: null,
    tileOffsets: { type: 4, count: 4, littleEndian: true, inline: null, offset: 0 },
    tileByteCounts: { type: 4, count: 4, littleEndian: true, inline: null, offset: 0 },
    ...extra,
  };
}

describe('stored TIFF JPEG tiles made standalone', () => {
  it('puts the page tables back and names the colour space, so the tile decodes as the original', async () => {
    const pixels = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 251;
    const original = await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const { tables, tile } = splitTables(original);
    const jpeg = standaloneJpeg(tile, page({ jpegTables: tables }))!;
    expect(jpeg).not.toBeNull();
    // SOI, then Adobe APP14 with transform 1 (YCbCr) for photometric 6.
    expect([...jpeg.subarray(0, 6)]).toEqual([0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e]);
    expect(jpeg[17]).toBe(1);
    const a = await sharp(original).raw().toBuffer();
    const b = await sharp(jpeg).raw().toBuffer();
    expect(b.equals(a)).toBe(true);
    // Photometric RGB (Aperio): transform 0, decoders then skip the YCbCr conversion.
    expect(standaloneJpeg(tile, page({ jpegTables: tables, photometric: 2 }))![17]).toBe(0);
    expect(jpegFrameSize(jpeg)).toEqual([32, 32]);
  });

  it('refuses what a browser could not show as stored', () => {
    const base = page({});
    expect(isPassthroughPage(base)).toBe(true);
    for (const bad of [
      { compression: 5 },
      { bitsPerSample: 12 },
      { samplesPerPixel: 4, photometric: 5 },
      { planarConfig: 2 },
      { photometric: 0, samplesPerPixel: 1 },
      { tileWidth: null },
      { tileOffsets: null },
    ] as Partial<TiffPage>[]) {
      expect(isPassthroughPage(page(bad)), JSON.stringify(bad)).toBe(false);
    }
    expect(isPassthroughPage(page({ photometric: 1, samplesPerPixel: 1 }))).toBe(true);
    // Not a JPEG stream, or a frame of another size than the page's tiles.
    expect(standaloneJpeg(Buffer.from([1, 2, 3, 4, 5]), base)).toBeNull();
    const sof = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20, 0x03]);
    expect(jpegFrameSize(sof)).toEqual([32, 16]);
    expect(standaloneJpeg(sof, base)).toBeNull();
  });
});
