// safetensors: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw data.
// Offsets are relative to the end of the header. We parse the header and read tensors on demand.
import { CheckpointError } from './errors';
import { DTYPE_BYTES, toFloat32 } from './dtype';
import { FileSource } from './fileSource';
import { elementCount, type Checkpoint, type TensorDtype, type TensorInfo } from './types';

const MAX_HEADER = 100 * 1024 * 1024;

interface Entry extends TensorInfo {
  begin: number;
  end: number;
}

/** True when the first bytes look like a safetensors header (length then '{'). */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.byteLength < 9) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n = Number(dv.getBigUint64(0, true));
  return n > 1 && n < MAX_HEADER && head[8] === 0x7b;
}

export function openSafetensors(src: FileSource): Checkpoint {
  const path = src.path;
  if (src.size < 8) throw new CheckpointError('truncated', `${path}: only ${src.size} bytes, too short for a safetensors file`);
  const n = Number(new DataView(src.read(0, 8).buffer).getBigUint64(0, true));
  if (n < 2 || n > MAX_HEADER) throw new CheckpointError('not-a-checkpoint', `${path}: not a safetensors file (header length ${n} is implausible)`);
  if (8 + n > src.size) throw new CheckpointError('truncated', `${path}: safetensors header needs ${n} bytes but the file has ${src.size - 8}; the file is incomplete`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, n, 'header')));
  } catch {
    throw new CheckpointError('corrupt', `${path}: the safetensors header is not valid JSON; the file is damaged`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError('corrupt', `${path}: the safetensors header is not a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLength = src.size - dataStart;
  const entries = new Map<string, Entry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as TensorDtype;
    const shape = e?.shape as number[];
    const offs = e?.data_offsets as number[];
    if (!(dtype in DTYPE_BYTES)) {
      if (typeof dtype === 'string') {
        // A dtype we do not convert (e.g. F8_E4M3): list it, refuse only when read.
      } else throw new CheckpointError('corrupt', `${path}: tensor ${name} has no dtype`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !Array.isArray(offs) || offs.length !== 2) {
      throw new CheckpointError('corrupt', `${path}: tensor ${name} has a malformed entry in the header`);
    }
    const [begin, end] = offs;
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin)) {
      throw new CheckpointError('corrupt', `${path}: tensor ${name} has invalid data offsets`);
    }
    const bytes = DTYPE_BYTES[dtype];
    if (bytes !== undefined && end - begin !== elementCount(shape) * bytes) {
      throw new CheckpointError('corrupt', `${path}: tensor ${name} has ${end - begin} bytes for shape [${shape}] ${dtype}`);
    }
    if (end > dataLength) {
      throw new CheckpointError('truncated', `${path}: tensor ${name} ends at byte ${dataStart + end} but the file has ${src.size} bytes; the file is incomplete, copy it again`);
    }
    entries.set(name, { dtype, shape, begin, end });
  }
  const tensors = new Map<string, TensorInfo>();
  for (const [k, e] of entries) tensors.set(k, { shape: e.shape, dtype: e.dtype });
  return {
    format: 'safetensors',
    path,
    tensors,
    read(name: string): Float32Array {
      const e = entries.get(name);
      if (!e) throw new Error(`safetensors: no tensor named ${name}`);
      if (!(e.dtype in DTYPE_BYTES)) throw new CheckpointError('unsupported-dtype', `${path}: tensor ${name} has dtype ${e.dtype}; only F32, F16 and BF16 weights can be loaded`);
      return toFloat32(src.read(dataStart + e.begin, e.end - e.begin, name), e.dtype, elementCount(e.shape), `${path}: ${name}`);
    },
    close: () => src.close(),
  };
}
