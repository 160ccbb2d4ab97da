// Minimal zip reader for torch.save archives: reads the central directory (zip64 aware), then
// entry bytes on demand at their offset. torch writes entries uncompressed ("stored"); deflated
// entries (a checkpoint re-zipped by hand) are inflated whole. The directory is untrusted: every
// field is bounds-checked against the file, entries may not overlap (overlapping entries are how
// zip bombs multiply one compressed payload), and inflating stops at the size an entry declares.
import { inflateRawSync } from 'node:zlib';
import { CheckpointError } from './errors';
import type { FileSource } from './fileSource';
import type { Budget } from './limits';

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
const CENTRAL_HEADER = 46;
const LOCAL_HEADER = 30;
/** Deflate cannot expand data more than ~1032:1; a higher declared ratio is a lie. */
const MAX_DEFLATE_RATIO = 1032;

export function looksLikeZip(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<string, number>();
  /** Where the next entry (or the central directory) starts: an entry's data must end before it. */
  private readonly nextStart = new Map<string, number>();
  /**
   * The last entry inflated for a slice, and the bytes inflated so far against twice the total the
   * deflated entries declare: reading every tensor once inflates each entry about once (torch keeps
   * one storage per tensor, or many views of one), so only a file built to re-inflate hits the bound.
   */
  private lastInflated: { name: string; bytes: Uint8Array } | null = null;
  private inflatedSoFar = 0;
  private declaredInflated = 0;

  constructor(
    private readonly src: FileSource,
    private readonly budget: Budget,
  ) {
    const path = src.path;
    const corrupt = (why: string): never => {
      throw new CheckpointError('corrupt', `${path}: damaged zip ${why}; the file is damaged, copy it again`);
    };
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
    if (eocd < 0)
      throw new CheckpointError(
        'truncated',
        `${path}: the zip archive has no end record; the file is incomplete (interrupted copy or download)`,
      );
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (eocd >= 20 && dv.getUint32(eocd - 20, true) === SIG_EOCD64_LOC) {
      const rec64 = Number(dv.getBigUint64(eocd - 20 + 8, true));
      const r = src.read(rec64, 56, 'zip64 end record');
      const d = new DataView(r.buffer);
      if (d.getUint32(0, true) !== SIG_EOCD64) corrupt('zip64 end record');
      count = Number(d.getBigUint64(32, true));
      cdSize = Number(d.getBigUint64(40, true));
      cdOffset = Number(d.getBigUint64(48, true));
    }
    // Each entry takes 46 to 46 + 3 * 65535 bytes, so the count and the directory size must agree
    // (checked first: a damaged count is corruption, not a huge archive).
    if (count * CENTRAL_HEADER > cdSize || cdSize > count * (CENTRAL_HEADER + 3 * 0xffff))
      corrupt(`central directory (${count} entries in ${cdSize} bytes)`);
    if (cdOffset + cdSize > src.size) corrupt(`central directory (it ends past the end of the file)`);
    const { maxZipEntries } = budget.limits;
    if (count > maxZipEntries)
      throw budget.exceeded(`the zip archive lists ${count.toLocaleString('en')} entries (limit ${maxZipEntries.toLocaleString('en')})`);
    const cd = src.read(cdOffset, cdSize, 'zip central directory');
    const c = new DataView(cd.buffer);
    let p = 0;
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_HEADER > cdSize || c.getUint32(p, true) !== SIG_CENTRAL) corrupt(`central directory (entry ${i})`);
      const method = c.getUint16(p + 10, true);
      let compressedSize = c.getUint32(p + 20, true);
      let size = c.getUint32(p + 24, true);
      const nameLen = c.getUint16(p + 28, true);
      const extraLen = c.getUint16(p + 30, true);
      const commentLen = c.getUint16(p + 32, true);
      let localOffset = c.getUint32(p + 42, true);
      const eEnd = p + CENTRAL_HEADER + nameLen + extraLen;
      if (eEnd + commentLen > cdSize) corrupt(`central directory (entry ${i} runs past its end)`);
      const name = dec.decode(cd.subarray(p + CENTRAL_HEADER, p + CENTRAL_HEADER + nameLen));
      // zip64 extended information: the 0xFFFFFFFF fields, in order size, csize, offset.
      let e = p + CENTRAL_HEADER + nameLen;
      while (e + 4 <= eEnd) {
        const id = c.getUint16(e, true);
        const len = c.getUint16(e + 2, true);
        if (e + 4 + len > eEnd) corrupt(`extra field in entry ${name}`);
        if (id === 0x0001) {
          let q = e + 4;
          const u64 = () => {
            if (q + 8 > e + 4 + len) corrupt(`zip64 field in entry ${name}`);
            q += 8;
            return Number(c.getBigUint64(q - 8, true));
          };
          if (size === 0xffffffff) size = u64();
          if (compressedSize === 0xffffffff) compressedSize = u64();
          if (localOffset === 0xffffffff) localOffset = u64();
        }
        e += 4 + len;
      }
      if (this.entries.has(name)) corrupt(`directory (entry ${name} appears twice)`);
      if (localOffset + LOCAL_HEADER + compressedSize > cdOffset) corrupt(`entry ${name} (its data runs into the central directory)`);
      if (method === 0 && compressedSize !== size) corrupt(`entry ${name} (stored, yet ${compressedSize} bytes hold ${size})`);
      if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 64)
        corrupt(`entry ${name} (claims ${size} bytes from ${compressedSize} compressed)`);
      this.entries.set(name, { name, method, compressedSize, size, localOffset });
      if (method === 8) this.declaredInflated += size;
      p = eEnd + commentLen;
    }
    // Local entries must not overlap: sorted by offset, each starts after the previous one's
    // smallest possible end (header, name, data; the local extra field is only known later).
    const sorted = [...this.entries.values()].sort((a, b) => a.localOffset - b.localOffset);
    for (let i = 0; i < sorted.length; i++) {
      const next = i + 1 < sorted.length ? sorted[i + 1].localOffset : cdOffset;
      const e = sorted[i];
      if (e.localOffset + LOCAL_HEADER + e.compressedSize > next)
        corrupt(`entries ${e.name} and ${sorted[i + 1]?.name ?? 'directory'} (they overlap)`);
      this.nextStart.set(e.name, next);
    }
  }

  private dataOffset(entry: ZipEntry): number {
    let off = this.dataOffsets.get(entry.name);
    if (off === undefined) {
      const h = this.src.read(entry.localOffset, LOCAL_HEADER, `zip header of ${entry.name}`);
      const d = new DataView(h.buffer);
      if (d.getUint32(0, true) !== SIG_LOCAL)
        throw new CheckpointError('corrupt', `${this.src.path}: damaged zip entry ${entry.name}; the file is damaged, copy it again`);
      off = entry.localOffset + LOCAL_HEADER + d.getUint16(26, true) + d.getUint16(28, true);
      if (off + entry.compressedSize > this.nextStart.get(entry.name)!) {
        throw new CheckpointError('corrupt', `${this.src.path}: zip entry ${entry.name} overlaps the next one; the file is damaged`);
      }
      this.dataOffsets.set(entry.name, off);
    }
    return off;
  }

  /** `length` bytes starting `offset` bytes into the (uncompressed) entry. */
  read(entry: ZipEntry, offset = 0, length = entry.size - offset): Uint8Array {
    const path = this.src.path;
    if (offset + length > entry.size)
      throw new CheckpointError(
        'corrupt',
        `${path}: ${entry.name} is shorter (${entry.size} bytes) than its tensors need (${offset + length})`,
      );
    const start = this.dataOffset(entry);
    if (entry.method === 0) return this.src.read(start + offset, length, entry.name);
    if (entry.method === 8) return this.inflate(entry, start, length < entry.size).subarray(offset, offset + length);
    throw new CheckpointError(
      'unsupported-format',
      `${path}: zip compression method ${entry.method} is not supported; re-save the checkpoint with torch.save`,
    );
  }

  /** The whole entry, inflated; kept when `keep` (a slice was asked for: more slices may follow). */
  private inflate(entry: ZipEntry, start: number, keep: boolean): Uint8Array {
    if (this.lastInflated?.name === entry.name) return this.lastInflated.bytes;
    const path = this.src.path;
    const { maxInflatedBytes } = this.budget.limits;
    if (entry.size > maxInflatedBytes)
      throw this.budget.exceeded(
        `${entry.name} would inflate to ${entry.size.toLocaleString('en')} bytes (limit ${maxInflatedBytes.toLocaleString('en')})`,
      );
    this.inflatedSoFar += entry.size;
    if (this.inflatedSoFar > 2 * this.declaredInflated) {
      throw this.budget.exceeded(
        `reading its tensors would inflate more than twice the ${this.declaredInflated.toLocaleString('en')} bytes its entries hold`,
      );
    }
    this.lastInflated = null; // free the previous entry before allocating the next
    let out: Uint8Array;
    try {
      // maxOutputLength stops inflating as soon as the output passes the declared size, so a bomb
      // costs at most that much; one chunk of size + 1 bytes avoids a second copy when it is honest.
      const compressed = this.src.read(start, entry.compressedSize, entry.name);
      out = inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.size), chunkSize: Math.max(64, entry.size + 1) });
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new CheckpointError(
          'corrupt',
          `${path}: ${entry.name} inflates to more than the ${entry.size} bytes it declares (a zip bomb or a damaged file); do not use this file`,
        );
      }
      throw new CheckpointError('corrupt', `${path}: ${entry.name} does not decompress; the file is damaged`);
    }
    if (out.byteLength !== entry.size) {
      throw new CheckpointError(
        'corrupt',
        `${path}: ${entry.name} inflates to ${out.byteLength} bytes but declares ${entry.size}; the file is damaged`,
      );
    }
    if (keep) this.lastInflated = { name: entry.name, bytes: out };
    return out;
  }
}
