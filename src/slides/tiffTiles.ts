// JPEG tiles of a TIFF page served as stored, without decoding: the passthrough Deep Zoom
// layout sends these bytes to the browser when its grid is the slide's own tile grid.
//
// A JPEG tile inside a TIFF is not always a JPEG a browser can show. Its quantisation and
// Huffman tables may live once per page in the JPEGTables tag (SOI, DQT/DHT..., EOI), and its
// colour space is the TIFF's Photometric tag, not a JFIF/Adobe marker: Aperio stores RGB
// samples with component ids 0,1,2, which a JPEG decoder reads as YCbCr (wrong colours). So
// a standalone tile is SOI + an Adobe APP14 marker naming the transform + the tables + the
// tile after its SOI. Anything unusual (12-bit, CMYK, planes, a SOF of another size) is null:
// the caller decodes and re-encodes that tile instead.
import { open, type FileHandle } from 'node:fs/promises';
import type { TiffArray, TiffPage } from './tiffDirectory';

const JPEG = 7;
/** More entries than any real level has (a 200k x 200k level of 240 px tiles has 7e5). */
const MAX_TILES = 1 << 23;

/** Whether the tiles of `page` can be served as stored (baseline 8-bit grey, RGB or YCbCr JPEG). */
export function isPassthroughPage(page: TiffPage): boolean {
  if (page.compression !== JPEG || page.tileWidth === null || page.tileHeight === null) return false;
  if (!page.tileOffsets || !page.tileByteCounts || page.bitsPerSample !== 8) return false;
  if (page.samplesPerPixel === 1) return page.photometric === 1;
  return page.samplesPerPixel === 3 && page.planarConfig === 1 && (page.photometric === 2 || page.photometric === 6);
}

/** Adobe APP14: version 100, no flags, transform 0 (RGB, no conversion) or 1 (YCbCr). */
function adobeMarker(transform: 0 | 1): Buffer {
  return Buffer.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, transform]);
}

/** Width and height from the first SOF marker, or null when the stream has none before its scan. */
export function jpegFrameSize(jpeg: Uint8Array): [number, number] | null {
  let i = 2;
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) return null;
    const m = jpeg[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    const len = (jpeg[i + 2] << 8) | jpeg[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (i + 9 > jpeg.length) return null;
      return [(jpeg[i + 7] << 8) | jpeg[i + 8], (jpeg[i + 5] << 8) | jpeg[i + 6]];
    }
    if (m === 0xda) return null;
    i += 2 + len;
  }
  return null;
}

/** A browser-ready JPEG from one stored tile of `page` (see the header), or null when it is not one. */
export function standaloneJpeg(tile: Buffer, page: TiffPage): Buffer | null {
  if (tile.length < 4 || tile[0] !== 0xff || tile[1] !== 0xd8) return null;
  const parts: Buffer[] = [tile.subarray(0, 2)];
  if (page.samplesPerPixel === 3) parts.push(adobeMarker(page.photometric === 2 ? 0 : 1));
  const tables = page.jpegTables;
  if (tables && tables.length > 4) {
    // Tables are a complete abbreviated stream: SOI, table segments, EOI.
    if (tables[0] !== 0xff || tables[1] !== 0xd8 || tables[tables.length - 2] !== 0xff || tables[tables.length - 1] !== 0xd9) return null;
    parts.push(tables.subarray(2, tables.length - 2));
  }
  parts.push(tile.subarray(2));
  const jpeg = Buffer.concat(parts);
  const size = jpegFrameSize(jpeg);
  if (!size || size[0] !== page.tileWidth || size[1] !== page.tileHeight) return null;
  return jpeg;
}

interface TileIndex {
  offsets: Float64Array;
  counts: Float64Array;
}

/** Stored tiles of one TIFF file, read with positioned reads on one open handle. */
export class TiffTileFile {
  private readonly indexes = new Map<number, Promise<TileIndex>>();
  private inFlight = 0;
  private closeRequested = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<TiffTileFile> {
    return new TiffTileFile(path, await open(path, 'r'));
  }

  /** The standalone JPEG of tile (tx, ty) of `page`, or null when that tile cannot be served as stored. */
  async jpegTile(page: TiffPage, tx: number, ty: number): Promise<Buffer | null> {
    if (!isPassthroughPage(page)) return null;
    const across = Math.ceil(page.width / page.tileWidth!);
    const down = Math.ceil(page.height / page.tileHeight!);
    if (!Number.isInteger(tx) || !Number.isInteger(ty) || tx < 0 || ty < 0 || tx >= across || ty >= down) return null;
    return this.withHandle(async () => {
      const index = await this.index(page);
      const i = ty * across + tx;
      const offset = index.offsets[i];
      const count = index.counts[i];
      if (!(count > 0) || count > 64 * 1024 * 1024) return null;
      const tile = Buffer.allocUnsafe(count);
      const { bytesRead } = await this.fh.read(tile, 0, count, offset);
      return bytesRead === count ? standaloneJpeg(tile, page) : null;
    });
  }

  /** Closes now, or once the reads in flight return. */
  close(): void {
    this.closeRequested = true;
    if (this.inFlight === 0) void this.fh.close().catch(() => undefined);
  }

  private async withHandle<T>(read: () => Promise<T>): Promise<T | null> {
    if (this.closeRequested) return null;
    this.inFlight++;
    try {
      return await read();
    } finally {
      this.inFlight--;
      if (this.closeRequested && this.inFlight === 0) void this.fh.close().catch(() => undefined);
    }
  }

  private index(page: TiffPage): Promise<TileIndex> {
    let index = this.indexes.get(page.index);
    if (!index) {
      index = Promise.all([this.readArray(page.tileOffsets!), this.readArray(page.tileByteCounts!)]).then(([offsets, counts]) => ({
        offsets,
        counts,
      }));
      // A failed read is not kept: the next request tries again.
      index.catch(() => this.indexes.delete(page.index));
      this.indexes.set(page.index, index);
    }
    return index;
  }

  private async readArray(a: TiffArray): Promise<Float64Array> {
    const size = a.type === 3 ? 2 : a.type === 4 ? 4 : a.type === 16 ? 8 : 0;
    if (size === 0 || a.count > MAX_TILES) throw new Error(`unsupported TIFF tile index (type ${a.type}, ${a.count} entries)`);
    let bytes = a.inline;
    if (!bytes) {
      bytes = Buffer.alloc(a.count * size);
      const { bytesRead } = await this.fh.read(bytes, 0, bytes.length, a.offset);
      if (bytesRead < bytes.length) throw new Error('truncated TIFF tile index');
    }
    const out = new Float64Array(a.count);
    const le = a.littleEndian;
    for (let i = 0; i < a.count; i++) {
      const o = i * size;
      out[i] =
        size === 2
          ? le
            ? bytes.readUInt16LE(o)
            : bytes.readUInt16BE(o)
          : size === 4
            ? le
              ? bytes.readUInt32LE(o)
              : bytes.readUInt32BE(o)
            : Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o));
    }
    return out;
  }
}
