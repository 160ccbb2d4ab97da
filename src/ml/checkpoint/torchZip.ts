// PyTorch zip checkpoints (torch.save since 1.6: `<archive>/data.pkl` + `<archive>/data/<key>`)
// and TorchScript archives (torch.jit.save, e.g. OpenAI's CLIP .pt: the module tree pickled in
// `data.pkl`, storages under `data/`, constants under `constants/`). Tensors are read lazily.
import { CheckpointError } from './errors';
import { DTYPE_BYTES, toFloat32 } from './dtype';
import type { FileSource } from './fileSource';
import { elementCount, type Checkpoint, type TensorDtype, type TensorInfo } from './types';
import type { Budget } from './limits';
import { PyGlobal, type StorageRef, type TensorRef } from './pyValues';
import { flatten, unwrap } from './tensorWalk';
import { unpickle } from './unpickle';
import { ZipArchive, type ZipEntry } from './zip';

const STORAGE_DTYPES: Record<string, TensorDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** Own keys only: a pickle can name a storage type 'constructor' or '__proto__'. */
function storageDtype(storage: StorageRef): TensorDtype | undefined {
  return Object.hasOwn(STORAGE_DTYPES, storage.storageType) ? STORAGE_DTYPES[storage.storageType] : undefined;
}

interface Entry extends TensorInfo {
  ref: TensorRef;
}

/** Largest `byteorder` entry read: it holds 'little' or 'big'. */
const MAX_BYTEORDER_BYTES = 16;

export function openTorchZip(src: FileSource, budget: Budget): Checkpoint {
  const path = src.path;
  const zip = new ZipArchive(src, budget);
  const pkl = [...zip.entries.values()]
    .filter((e) => /^([^/]+\/)?data\.pkl$/.test(e.name))
    .sort((a, b) => a.name.length - b.name.length)[0];
  if (!pkl) throw new CheckpointError('not-a-checkpoint', `${path}: a zip file without data.pkl is not a PyTorch checkpoint`);
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    if (byteorder.size > MAX_BYTEORDER_BYTES)
      throw new CheckpointError(
        'corrupt',
        `${path}: the byteorder entry is ${byteorder.size} bytes, not 'little' or 'big'; the file is damaged`,
      );
    if (new TextDecoder().decode(zip.read(byteorder)).trim() === 'big') {
      throw new CheckpointError(
        'unsupported-format',
        `${path}: saved on a big-endian machine; re-save it with torch on a little-endian one`,
      );
    }
  }
  const isTorchScript = [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`) || n === `${prefix}constants.pkl`);
  const storageEntry = (key: string): ZipEntry | undefined =>
    zip.entries.get(`${prefix}data/${key}`) ?? zip.entries.get(`${prefix}constants/${key}`);

  const { maxPickleBytes } = budget.limits;
  if (pkl.size > maxPickleBytes)
    throw budget.exceeded(`${pkl.name} is ${pkl.size.toLocaleString('en')} bytes (limit ${maxPickleBytes.toLocaleString('en')})`);
  const root = unpickle(zip.read(pkl), pkl.name, budget, (pid) => storageRef(pid, `${path}: ${pkl.name}`));
  const refs = flatten(unwrap(root), budget);
  if (refs.size === 0) throw new CheckpointError('not-a-checkpoint', `${path}: the PyTorch file holds no tensors`);

  const entries = new Map<string, Entry>();
  for (const [name, ref] of refs) {
    const dtype = storageDtype(ref.storage);
    const entry = storageEntry(ref.storage.key);
    if (!entry)
      throw new CheckpointError(
        'corrupt',
        `${path}: tensor ${name} refers to storage ${ref.storage.key}, which is missing from the archive`,
      );
    if (dtype) checkSpan(name, ref, DTYPE_BYTES[dtype], entry, path);
    // Storages of a type we do not convert are listed as U8 and refused when read.
    entries.set(name, { shape: ref.shape, dtype: dtype ?? 'U8', ref });
  }
  const tensors = new Map<string, TensorInfo>();
  for (const [k, e] of entries) tensors.set(k, { shape: e.shape, dtype: e.dtype });

  return {
    format: isTorchScript ? 'torchscript' : 'torch-zip',
    path,
    tensors,
    read(name: string): Float32Array {
      const e = entries.get(name);
      if (!e) throw new Error(`torch checkpoint: no tensor named ${name}`);
      const { ref, shape } = e;
      const dtype = storageDtype(ref.storage);
      if (!dtype)
        throw new CheckpointError(
          'unsupported-dtype',
          `${path}: tensor ${name} is stored as ${ref.storage.storageType}; only float weights can be loaded`,
        );
      const n = elementCount(shape);
      if (n === 0) return new Float32Array(0);
      // Only a stride-0 (expanded) view has more elements than its storage; copying one would let a
      // few bytes of file ask for gigabytes. Weights are never saved that way.
      if (n > ref.storage.numel) {
        throw new CheckpointError(
          'unsupported-format',
          `${path}: tensor ${name} is an expanded view (${n} elements over a storage of ${ref.storage.numel}); re-save it with tensor.contiguous()`,
        );
      }
      const maxIndex = lastIndex(shape, ref.stride);
      const size = DTYPE_BYTES[dtype];
      const entry = storageEntry(ref.storage.key)!;
      const raw = toFloat32(zip.read(entry, ref.offset * size, (maxIndex + 1) * size), dtype, maxIndex + 1, `${path}: ${name}`);
      return isContiguous(shape, ref.stride) ? raw.subarray(0, n) : gather(raw, shape, ref.stride);
    },
    close: () => src.close(),
  };
}

/** Validates a persistent id ('storage', <type>, key, location, numel) from data.pkl. */
function storageRef(pid: unknown, where: string): StorageRef {
  const bad = (): never => {
    throw new CheckpointError('corrupt', `${where}: a tensor storage id is malformed; the file is damaged`);
  };
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) bad();
  const [, type, key, location, numel] = pid as unknown[];
  const storageType = type instanceof PyGlobal ? type.name : typeof type === 'string' ? type : bad();
  if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) bad();
  return {
    kind: 'storage',
    storageType,
    key: key as string,
    location: typeof location === 'string' ? location : '',
    numel: numel as number,
  };
}

/** Index of the last storage element a (possibly strided) view touches; shape has no zero dims. */
function lastIndex(shape: readonly number[], stride: readonly number[]): number {
  let last = 0;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * stride[i];
  return last;
}

/**
 * Checks at open time that a tensor lies inside its storage and the storage inside its zip entry,
 * so reading it later cannot run past the data or allocate more than the file declares.
 */
function checkSpan(name: string, ref: TensorRef, bytes: number, entry: ZipEntry, path: string): void {
  const n = elementCount(ref.shape);
  if (!Number.isSafeInteger(n))
    throw new CheckpointError('corrupt', `${path}: tensor ${name} has an impossible shape [${ref.shape}]; the file is damaged`);
  const { numel } = ref.storage;
  if (n > 0) {
    const end = ref.offset + lastIndex(ref.shape, ref.stride) + 1;
    if (!Number.isSafeInteger(end) || end > numel) {
      throw new CheckpointError(
        'corrupt',
        `${path}: tensor ${name} (shape [${ref.shape}]) runs past the end of its storage of ${numel} elements; the file is damaged`,
      );
    }
  }
  if (numel * bytes > entry.size) {
    throw new CheckpointError(
      'corrupt',
      `${path}: storage ${ref.storage.key} should hold ${numel * bytes} bytes but its zip entry has ${entry.size}; the file is damaged`,
    );
  }
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) return false;
    expect *= shape[i];
  }
  return true;
}

/** Copies a strided view into row-major order. */
function gather(src: Float32Array, shape: number[], stride: number[]): Float32Array {
  const out = new Float32Array(elementCount(shape));
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let d = 0; d < shape.length; d++) s += idx[d] * stride[d];
    out[o] = src[s];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
