// PyTorch zip checkpoints (torch.save since 1.6: `<archive>/data.pkl` + `<archive>/data/<key>`)
// and TorchScript archives (torch.jit.save, e.g. OpenAI's CLIP .pt: the module tree pickled in
// `data.pkl`, storages under `data/`, constants under `constants/`). Tensors are read lazily.
import { CheckpointError } from './errors';
import { DTYPE_BYTES, toFloat32 } from './dtype';
import type { FileSource } from './fileSource';
import type { Budget } from './limits';
import { elementCount, type Checkpoint, type TensorDtype, type TensorInfo } from './types';
import { isTensorRef, PyDict, PyObject, unpickle, type StorageRef, type TensorRef } from './unpickle';
import { ZipArchive, type ZipEntry } from './zip';

const STORAGE_DTYPES: Record<string, TensorDtype> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** Dict keys under which training scripts nest the weights ({"state_dict": ...}, {"model": ...}). */
const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict', 'module', 'state_dict_ema', 'model_ema', 'teacher', 'net', 'network'];

interface Entry extends TensorInfo {
  ref: TensorRef;
}

function hasTensors(v: unknown, depth = 0): boolean {
  if (isTensorRef(v)) return true;
  if (depth > 6) return false;
  if (v instanceof Map) for (const x of v.values()) if (hasTensors(x, depth + 1)) return true;
  if (v instanceof PyObject) return hasTensors(v.state, depth + 1);
  return false;
}

/** Walks dicts and TorchScript module objects, naming tensors by their dotted attribute path. */
function flatten(v: unknown, prefix: string, out: Map<string, TensorRef>, depth = 0): void {
  if (depth > 64) return;
  if (isTensorRef(v)) {
    if (!out.has(prefix)) out.set(prefix, v);
  } else if (v instanceof Map) {
    for (const [k, x] of v) if (typeof k === 'string' || typeof k === 'number') flatten(x, prefix ? `${prefix}.${k}` : String(k), out, depth + 1);
  } else if (v instanceof PyObject) {
    flatten(v.state, prefix, out, depth + 1);
  } else if (Array.isArray(v) && v.some((x) => isTensorRef(x) || x instanceof PyObject)) {
    v.forEach((x, i) => flatten(x, prefix ? `${prefix}.${i}` : String(i), out, depth + 1));
  }
}

function unwrap(root: unknown): unknown {
  for (let i = 0; i < 3; i++) {
    const dict = root;
    if (!(dict instanceof PyDict)) break;
    const key = WRAPPER_KEYS.find((k) => hasTensors(dict.get(k)));
    if (!key) break;
    root = dict.get(key);
  }
  return root;
}

export function openTorchZip(src: FileSource, budget: Budget): Checkpoint {
  const path = src.path;
  const zip = new ZipArchive(src, budget);
  const pkl = [...zip.entries.values()].filter((e) => /^([^/]+\/)?data\.pkl$/.test(e.name)).sort((a, b) => a.name.length - b.name.length)[0];
  if (!pkl) {
    src.close();
    throw new CheckpointError('not-a-checkpoint', `${path}: a zip file without data.pkl is not a PyTorch checkpoint`);
  }
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(zip.read(byteorder)).trim() === 'big') {
    throw new CheckpointError('unsupported-format', `${path}: saved on a big-endian machine; re-save it with torch on a little-endian one`);
  }
  const isTorchScript = [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`) || n === `${prefix}constants.pkl`);
  const storageEntry = (key: string): ZipEntry | undefined => zip.entries.get(`${prefix}data/${key}`) ?? zip.entries.get(`${prefix}constants/${key}`);

  const root = unpickle(zip.read(pkl), `${path}: ${pkl.name}`, (pid): StorageRef => {
    const t = pid as unknown[];
    if (!Array.isArray(t) || t[0] !== 'storage' || t.length < 5) throw new CheckpointError('corrupt', `${path}: unexpected persistent id in data.pkl`);
    const st = t[1] as { name?: string };
    return { kind: 'storage', storageType: String(st?.name ?? st), key: String(t[2]), location: String(t[3]), numel: Number(t[4]) };
  });
  const refs = new Map<string, TensorRef>();
  flatten(unwrap(root), '', refs);
  if (refs.size === 0) throw new CheckpointError('not-a-checkpoint', `${path}: the PyTorch file holds no tensors`);

  const entries = new Map<string, Entry>();
  for (const [name, ref] of refs) {
    const dtype = STORAGE_DTYPES[ref.storage.storageType];
    if (!storageEntry(ref.storage.key)) throw new CheckpointError('corrupt', `${path}: tensor ${name} refers to storage ${ref.storage.key}, which is missing from the archive`);
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
      const dtype = STORAGE_DTYPES[ref.storage.storageType];
      if (!dtype) throw new CheckpointError('unsupported-dtype', `${path}: tensor ${name} is stored as ${ref.storage.storageType}; only float weights can be loaded`);
      const n = elementCount(shape);
      if (n === 0) return new Float32Array(0);
      // Span of storage elements this (possibly strided) view touches.
      let maxIndex = 0;
      shape.forEach((d, i) => (maxIndex += (d - 1) * ref.stride[i]));
      const size = DTYPE_BYTES[dtype];
      const entry = storageEntry(ref.storage.key)!;
      const raw = toFloat32(zip.read(entry, ref.offset * size, (maxIndex + 1) * size), dtype, maxIndex + 1, `${path}: ${name}`);
      return isContiguous(shape, ref.stride) ? raw.subarray(0, n) : gather(raw, shape, ref.stride);
    },
    close: () => src.close(),
  };
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
