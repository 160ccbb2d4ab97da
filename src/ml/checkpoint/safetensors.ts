// safetensors: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw data.
// Offsets are relative to the end of the header. We parse the header and read tensors on demand.
// The header is untrusted: each entry must be well-formed, lie inside the data section, have
// exactly dtype x shape bytes, and not overlap another (so no read can run past the file or see
// another tensor's bytes).
import { CheckpointError } from './errors';
import { DTYPE_BYTES, toFloat32 } from './dtype';
import type { FileSource } from './fileSource';
import type { Budget } from './limits';
import { elementCount, type Checkpoint, type TensorDtype, type TensorInfo } from './types';

/** The format's own bound (the reference implementation refuses larger headers); used to sniff. */
const FORMAT_MAX_HEADER = 100_000_000;
/** Same rank bound as torch. */
const MAX_RANK = 64;
/** Bytes per element of dtypes we list but do not convert, so their sizes can be checked too. */
const OTHER_DTYPE_BYTES: Record<string, number> = { F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, U16: 2, U32: 4, U64: 8 };

interface Entry extends TensorInfo {
  begin: number;
  end: number;
}

/** True when the first bytes look like a safetensors header (length then '{'). */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.byteLength < 9) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n = Number(dv.getBigUint64(0, true));
  return n > 1 && n < FORMAT_MAX_HEADER && head[8] === 0x7b;
}

/**
 * Counts the objects and arrays a JSON text would build, without building them. JSON.parse of
 * 16 MB of `{},{},...` takes 500 MB and 5 s; a real header has 3 per tensor (entry, shape,
 * offsets), while big headers are big because of `__metadata__` strings, which are cheap.
 */
function countContainers(json: Uint8Array): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) count++;
  }
  return count;
}

function parseHeader(src: FileSource, n: number, budget: Budget): Record<string, unknown> {
  const bytes = src.read(8, n, 'header');
  // An entry is an object holding two arrays; a few more for __metadata__ and the header itself.
  const maxContainers = 3 * budget.limits.maxTensors + 16;
  if (countContainers(bytes) > maxContainers)
    throw budget.exceeded(`the safetensors header holds more than ${maxContainers.toLocaleString('en')} JSON objects and arrays`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError('corrupt', `${src.path}: the safetensors header is not valid JSON; the file is damaged`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError('corrupt', `${src.path}: the safetensors header is not a JSON object; the file is damaged`);
  }
  return header as Record<string, unknown>;
}

/** One header entry, checked on its own; `dataLength` is the size of the data section. */
function parseEntry(name: string, raw: unknown, dataLength: number, path: string): Entry {
  const bad = (why: string): never => {
    throw new CheckpointError('corrupt', `${path}: tensor ${name} ${why} in the safetensors header; the file is damaged`);
  };
  if (typeof raw !== 'object' || raw === null) bad('has no entry');
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e.dtype !== 'string') bad('has no dtype');
  // A dtype we do not convert (e.g. F8_E4M3) is listed; it is refused only when read.
  const dtype = e.dtype as TensorDtype;
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    bad('has a malformed shape');
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2) bad('has malformed data offsets');
  const [begin, end] = offs as unknown[];
  if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && (begin as number) >= 0 && (end as number) >= (begin as number)))
    bad('has invalid data offsets');
  const dims = shape as number[];
  const [b, x] = [begin as number, end as number];
  const bytes = Object.hasOwn(DTYPE_BYTES, dtype)
    ? DTYPE_BYTES[dtype]
    : Object.hasOwn(OTHER_DTYPE_BYTES, dtype)
      ? OTHER_DTYPE_BYTES[dtype]
      : undefined;
  if (bytes !== undefined && x - b !== elementCount(dims) * bytes) bad(`has ${x - b} bytes for shape [${dims}] ${dtype}`);
  if (x > dataLength) {
    throw new CheckpointError(
      'truncated',
      `${path}: tensor ${name} ends at byte ${x} of the data but the file holds only ${dataLength}; the file is incomplete, copy it again`,
    );
  }
  return { dtype, shape: dims, begin: b, end: x };
}

/** Refuses entries whose byte ranges overlap (zero-length tensors read nothing and may sit anywhere). */
function checkNoOverlap(entries: Map<string, Entry>, path: string): void {
  const ranges = [...entries].filter(([, e]) => e.end > e.begin).sort(([, a], [, b]) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const [prevName, prev] = ranges[i - 1];
    const [name, e] = ranges[i];
    if (e.begin < prev.end)
      throw new CheckpointError('corrupt', `${path}: tensors ${prevName} and ${name} overlap in the safetensors data; the file is damaged`);
  }
}

export function openSafetensors(src: FileSource, budget: Budget): Checkpoint {
  const path = src.path;
  if (src.size < 8) throw new CheckpointError('truncated', `${path}: only ${src.size} bytes, too short for a safetensors file`);
  const n = Number(new DataView(src.read(0, 8).buffer).getBigUint64(0, true));
  if (n < 2 || n >= FORMAT_MAX_HEADER)
    throw new CheckpointError('not-a-checkpoint', `${path}: not a safetensors file (header length ${n} is implausible)`);
  const { maxSafetensorsHeaderBytes } = budget.limits;
  if (n > maxSafetensorsHeaderBytes)
    throw budget.exceeded(
      `the safetensors header is ${n.toLocaleString('en')} bytes (limit ${maxSafetensorsHeaderBytes.toLocaleString('en')})`,
    );
  if (8 + n > src.size)
    throw new CheckpointError(
      'truncated',
      `${path}: safetensors header needs ${n} bytes but the file has ${src.size - 8}; the file is incomplete`,
    );
  const header = parseHeader(src, n, budget);
  const dataStart = 8 + n;
  const entries = new Map<string, Entry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name !== '__metadata__') entries.set(name, parseEntry(name, raw, src.size - dataStart, path));
  }
  checkNoOverlap(entries, path);
  const tensors = new Map<string, TensorInfo>();
  for (const [k, e] of entries) tensors.set(k, { shape: e.shape, dtype: e.dtype });
  return {
    format: 'safetensors',
    path,
    tensors,
    read(name: string): Float32Array {
      const e = entries.get(name);
      if (!e) throw new Error(`safetensors: no tensor named ${name}`);
      if (!Object.hasOwn(DTYPE_BYTES, e.dtype))
        throw new CheckpointError(
          'unsupported-dtype',
          `${path}: tensor ${name} has dtype ${e.dtype}; only F32, F16 and BF16 weights can be loaded`,
        );
      return toFloat32(src.read(dataStart + e.begin, e.end - e.begin, name), e.dtype, elementCount(e.shape), `${path}: ${name}`);
    },
    close: () => src.close(),
  };
}
