// Minimal zip reader for torch.save archives: reads the central directory (zip64 aware), then
// entry bytes on demand at their offset. torch writes entries uncompressed ("stored"); deflated
// entries (a checkpoint re-zipped by hand) are inflated whole.
import { inflateRawSync } from 'node:zlib';
import { CheckpointError } from './errors';
import type { FileSource } from './fileSource';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOC = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export function looksLikeZip(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private dataOffsets = new Map<string, number>();

  constructor(private readonly src: FileSource) {
    const path = src.path;
    const tailLen = Math.min(src.size, 65557);
    const tail = src.read(src.size - tailLen, tailLen, 'zip end record');
    const dv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (dv.getUint32(i, true) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new CheckpointError('truncated', `${path}: the zip archive has no end record; the file is incomplete (interrupted copy or download)`);
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (eocd >= 20 && dv.getUint32(eocd - 20, true) === SIG_EOCD64_LOC) {
      const rec64 = Number(dv.getBigUint64(eocd - 20 + 8, true));
      const r = src.read(rec64, 56, 'zip64 end record');
      const d = new DataView(r.buffer);
      if (d.getUint32(0, true) !== SIG_EOCD64) throw new CheckpointError('corrupt', `${path}: broken zip64 end record`);
      count = Number(d.getBigUint64(32, true));
      cdSize = Number(d.getBigUint64(40, true));
      cdOffset = Number(d.getBigUint64(48, true));
    }
    const cd = src.read(cdOffset, cdSize, 'zip central directory');
    const c = new DataView(cd.buffer);
    let p = 0;
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || c.getUint32(p, true) !== SIG_CENTRAL) throw new CheckpointError('corrupt', `${path}: damaged zip central directory (entry ${i})`);
      const method = c.getUint16(p + 10, true);
      let compressedSize = c.getUint32(p + 20, true);
      let size = c.getUint32(p + 24, true);
      const nameLen = c.getUint16(p + 28, true);
      const extraLen = c.getUint16(p + 30, true);
      const commentLen = c.getUint16(p + 32, true);
      let localOffset = c.getUint32(p + 42, true);
      const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the 0xFFFFFFFF fields, in order size, csize, offset.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = c.getUint16(e, true);
        const len = c.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) {
            size = Number(c.getBigUint64(q, true));
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(c.getBigUint64(q, true));
            q += 8;
          }
          if (localOffset === 0xffffffff) localOffset = Number(c.getBigUint64(q, true));
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localOffset });
      p = eEnd + commentLen;
    }
  }

  private dataOffset(entry: ZipEntry): number {
    let off = this.dataOffsets.get(entry.name);
    if (off === undefined) {
      const h = this.src.read(entry.localOffset, 30, `zip header of ${entry.name}`);
      const d = new DataView(h.buffer);
      if (d.getUint32(0, true) !== SIG_LOCAL) throw new CheckpointError('corrupt', `${this.src.path}: damaged zip entry ${entry.name}`);
      off = entry.localOffset + 30 + d.getUint16(26, true) + d.getUint16(28, true);
      this.dataOffsets.set(entry.name, off);
    }
    return off;
  }

  /** `length` bytes starting `offset` bytes into the (uncompressed) entry. */
  read(entry: ZipEntry, offset = 0, length = entry.size - offset): Uint8Array {
    if (offset + length > entry.size) throw new CheckpointError('corrupt', `${this.src.path}: ${entry.name} is shorter (${entry.size} bytes) than its tensors need (${offset + length})`);
    const start = this.dataOffset(entry);
    if (entry.method === 0) return this.src.read(start + offset, length, entry.name);
    if (entry.method === 8) {
      let all: Uint8Array;
      try {
        all = inflateRawSync(this.src.read(start, entry.compressedSize, entry.name));
      } catch {
        throw new CheckpointError('corrupt', `${this.src.path}: ${entry.name} does not decompress; the file is damaged`);
      }
      return all.subarray(offset, offset + length);
    }
    throw new CheckpointError('unsupported-format', `${this.src.path}: zip compression method ${entry.method} is not supported`);
  }
}
