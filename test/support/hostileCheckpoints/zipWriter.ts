// Builds zip archives like torch.save's (stored entries under `<archive>/`), plus the knobs a
// hostile file needs: deflated entries, a declared size that lies, entries that share bytes.
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  name: string;
  /** Uncompressed bytes; stored unless `deflate` or `compressed` is given. */
  data?: Uint8Array;
  deflate?: boolean;
  /** Raw deflate stream written as is (method 8), with `size` as its declared uncompressed size. */
  compressed?: Uint8Array;
  /** Overrides the declared uncompressed size. */
  size?: number;
  /** Makes the central directory point at the local entry of this earlier entry (overlap). */
  aliasOf?: string;
}

function u16(v: number): number[] {
  return [v & 255, (v >>> 8) & 255];
}
function u32(v: number): number[] {
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
}

export function buildZip(inputs: readonly ZipInput[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: number[] = [];
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const e of inputs) {
    const name = new TextEncoder().encode(e.name);
    const method = e.compressed || e.deflate ? 8 : 0;
    const body = e.compressed ?? (e.deflate ? deflateRawSync(e.data!) : e.data!);
    const size = e.size ?? (e.compressed ? body.length : e.data!.length);
    const crc = e.data ? crc32(e.data) : 0;
    const fields = [
      ...u16(20),
      ...u16(0),
      ...u16(method),
      ...u16(0),
      ...u16(0),
      ...u32(crc),
      ...u32(body.length),
      ...u32(size),
      ...u16(name.length),
      ...u16(0),
    ];
    let at = offset;
    if (e.aliasOf !== undefined) {
      at = offsets.get(e.aliasOf)!;
    } else {
      parts.push(new Uint8Array([...u32(0x04034b50), ...fields]), name, body);
      offsets.set(e.name, offset);
      offset += 30 + name.length + body.length;
    }
    central.push(...u32(0x02014b50), ...u16(20), ...fields, ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(at), ...name);
  }
  const eocd = [
    ...u32(0x06054b50),
    ...u16(0),
    ...u16(0),
    ...u16(inputs.length),
    ...u16(inputs.length),
    ...u32(central.length),
    ...u32(offset),
    ...u16(0),
  ];
  parts.push(new Uint8Array(central), new Uint8Array(eocd));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
