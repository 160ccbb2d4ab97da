// Minimal TIFF / BigTIFF directory reader: the fields the sharp fallback needs to find a
// slide's pyramid levels (tiled pages, sizes), its Aperio description (MPP, AppMag) and its
// resolution, plus where each page's tiles are (tiffTiles.ts serves JPEG tiles as stored).
// Reads only the directories, never pixel data. Malformed files give null.
import { open, type FileHandle } from 'node:fs/promises';

export interface TiffPage {
  index: number;
  width: number;
  height: number;
  tileWidth: number | null;
  tileHeight: number | null;
  compression: number | null;
  /** NewSubfileType bit 0 (reduced resolution), bit 2 (mask); 0 when absent. */
  subfileType: number;
  description: string | null;
  xResolution: number | null;
  yResolution: number | null;
  /** 1 none, 2 inch, 3 centimetre. */
  resolutionUnit: number | null;
  /** 0/1 grey, 2 RGB, 6 YCbCr (for JPEG: the colour space of the stored stream). */
  photometric: number | null;
  samplesPerPixel: number;
  bitsPerSample: number;
  /** 1 interleaved, 2 one plane per sample. */
  planarConfig: number;
  /** JPEGTables (347): the quantisation and Huffman tables every JPEG tile of the page refers to. */
  jpegTables: Buffer | null;
  /** TileOffsets (324) and TileByteCounts (325), read lazily: a 40x level has ~10^5 tiles. */
  tileOffsets: TiffArray | null;
  tileByteCounts: TiffArray | null;
}

/** An integer array of a directory entry: inline bytes, or where in the file it starts. */
export interface TiffArray {
  /** 3 SHORT, 4 LONG, 16 LONG8. */
  type: number;
  count: number;
  littleEndian: boolean;
  inline: Buffer | null;
  offset: number;
}

const MAX_PAGES = 256;
/** Tags whose values are read (or, for 324/325, located). */
const FETCHED = new Set([254, 256, 257, 258, 259, 262, 270, 277, 282, 283, 284, 296, 322, 323, 324, 325, 347]);

export class TiffError extends Error {}
const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/** Directories of a TIFF file, or null when the file is not a (Big)TIFF. Throws TiffError on a corrupt or truncated one. */
export async function readTiffPages(path: string): Promise<TiffPage[] | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    return await readPages(fh);
  } finally {
    await fh.close();
  }
}

async function bytesAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead < length) throw new TiffError('truncated TIFF (a directory points past the end of the file)');
  return buf;
}

async function readPages(fh: FileHandle): Promise<TiffPage[] | null> {
  const head = Buffer.alloc(16);
  const { bytesRead } = await fh.read(head, 0, 16, 0);
  if (bytesRead < 16) return null;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const magic = u16(head, 2);
  const big = magic === 43;
  if (magic !== 42 && !big) return null;
  const entrySize = big ? 20 : 12;
  const inlineSize = big ? 8 : 4;
  let next = big ? u64(head, 8) : u32(head, 4);
  const seen = new Set<number>();
  const pages: TiffPage[] = [];

  while (next !== 0 && pages.length < MAX_PAGES && !seen.has(next)) {
    seen.add(next);
    const countBuf = await bytesAt(fh, next, big ? 8 : 2);
    const count = big ? u64(countBuf, 0) : u16(countBuf, 0);
    if (count > 4096) throw new TiffError('corrupt TIFF directory');
    const dir = await bytesAt(fh, next + countBuf.length, count * entrySize + (big ? 8 : 4));
    const fields = new Map<number, { type: number; count: number; value: Buffer }>();
    const arrays = new Map<number, TiffArray>();
    for (let i = 0; i < count; i++) {
      const e = i * entrySize;
      const tag = u16(dir, e);
      const type = u16(dir, e + 2);
      const n = big ? u64(dir, e + 4) : u32(dir, e + 4);
      const size = (TYPE_SIZE[type] ?? 1) * n;
      // Only fetch out-of-line values for the few tags we use (descriptions can be long).
      if (!FETCHED.has(tag)) continue;
      const valueAt = e + (big ? 12 : 8);
      if (tag === 324 || tag === 325) {
        const inline = size <= inlineSize ? Buffer.from(dir.subarray(valueAt, valueAt + size)) : null;
        arrays.set(tag, { type, count: n, littleEndian: le, inline, offset: inline ? 0 : big ? u64(dir, valueAt) : u32(dir, valueAt) });
        continue;
      }
      const value =
        size <= inlineSize
          ? dir.subarray(valueAt, valueAt + size)
          : await bytesAt(fh, big ? u64(dir, valueAt) : u32(dir, valueAt), Math.min(size, 1 << 20));
      fields.set(tag, { type, count: n, value });
    }
    next = big ? u64(dir, count * entrySize) : u32(dir, count * entrySize);

    const int = (tag: number): number | null => {
      const f = fields.get(tag);
      if (!f) return null;
      if (f.type === 3) return u16(f.value, 0);
      if (f.type === 4) return u32(f.value, 0);
      if (f.type === 16) return u64(f.value, 0);
      return null;
    };
    const rational = (tag: number): number | null => {
      const f = fields.get(tag);
      if (!f || f.type !== 5) return null;
      const d = u32(f.value, 4);
      return d === 0 ? null : u32(f.value, 0) / d;
    };
    const desc = fields.get(270);
    const width = int(256);
    const height = int(257);
    if (width === null || height === null) throw new TiffError('TIFF directory without image size');
    pages.push({
      index: pages.length,
      width,
      height,
      tileWidth: int(322),
      tileHeight: int(323),
      compression: int(259),
      subfileType: int(254) ?? 0,
      description: desc ? desc.value.toString('latin1').replace(/\0+$/, '') : null,
      xResolution: rational(282),
      yResolution: rational(283),
      resolutionUnit: int(296),
      photometric: int(262),
      samplesPerPixel: int(277) ?? 1,
      bitsPerSample: int(258) ?? 1,
      planarConfig: int(284) ?? 1,
      jpegTables: fields.get(347)?.value ?? null,
      tileOffsets: arrays.get(324) ?? null,
      tileByteCounts: arrays.get(325) ?? null,
    });
  }
  return pages;
}
