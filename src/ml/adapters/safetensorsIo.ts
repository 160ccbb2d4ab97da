// Minimal safetensors writer and F32 reader for what we produce ourselves (adapters, heads,
// training checkpoints). Layout: u64 LE header length, JSON header {name: {dtype, shape,
// data_offsets}, __metadata__: {string: string}}, then the raw little-endian data.
// Checkpoints of foundation models are read by src/ml/checkpoint, not here.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A float32 tensor on the host (not tfjs): what adapter, head and checkpoint files hold. */
export interface HostTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class WeightsFileError extends Error {
  constructor(
    readonly kind: 'weights-file-missing' | 'weights-file-invalid',
    message: string,
  ) {
    super(message);
  }
}

export function encodeSafetensors(tensors: HostTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${t.name}: shape ${t.shape} does not match ${t.data.length} values`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (as the reference implementation does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export interface DecodedWeights {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, path = '<memory>'): DecodedWeights {
  const bad = (why: string) => new WeightsFileError('weights-file-invalid', `${path}: not a valid weights file (${why})`);
  if (bytes.length < 8) throw bad('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) throw bad('header length out of range');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32') throw bad(`tensor ${name} has dtype ${e.dtype}; only F32 is written by CytoTune`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length) throw bad(`tensor ${name} is truncated or inconsistent`);
    // Copy: the data may not be 4-byte aligned within the file buffer.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { name, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Writes to a temporary file next to `path`, flushes it, then renames: readers never see half a
 * file, and a write that fails (a full disk) leaves the previous file whole and removes the
 * temporary one. Temporary names end in `.tmp-<pid>-<hex>` (TEMP_FILE), so a crash's leftovers
 * can be recognised and removed later.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself survives a power loss once the folder is flushed (not every system allows it).
  await open(dirname(path), 'r')
    .then(async (dir) => {
      await dir.sync().catch(() => undefined);
      await dir.close();
    })
    .catch(() => undefined);
}

/** The name of a temporary file writeFileAtomic (or the ONNX cache) left behind when it was killed. */
export const TEMP_FILE = /\.tmp-\d+-[0-9a-f]+$/;

export async function writeWeightsFile(path: string, tensors: HostTensor[], metadata: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function readWeightsFile(path: string): Promise<DecodedWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WeightsFileError(
      'weights-file-missing',
      code === 'ENOENT' ? `${path}: file not found` : `${path}: ${(err as Error).message}`,
    );
  }
  return decodeSafetensors(bytes, path);
}
