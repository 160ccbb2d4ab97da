// The values the unpickler builds, and the few Python callables it models. Globals are never
// imported: they are `PyGlobal` markers, and calling one either maps to a known torch rebuild
// function or yields an inert `PyObject`. Arguments are checked here, because a damaged pickle can
// pass anything (a dict as a shape, a nested list as a module name) and a later `String(x)` or
// `[...x]` on such a value could be slow (joins of shared lists are exponential) or throw.
import { CheckpointError } from './errors';

export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a class we do not model (e.g. a TorchScript module): its args and BUILD state. */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly cls: PyGlobal,
    readonly args: unknown[],
  ) {}
}

export class PyDict extends Map<unknown, unknown> {}
export class PyTuple extends Array<unknown> {}

/** The persistent id of a torch storage: ('storage', <dtype>Storage, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  storageType: string;
  key: string;
  location: string;
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor' && 'storage' in v;
}

/** A copy of `items` as a tuple (no spread: `push(...x)` overflows the call stack past ~100k items). */
export function tuple(items: readonly unknown[]): PyTuple {
  const t = new PyTuple(items.length);
  for (let i = 0; i < items.length; i++) t[i] = items[i];
  return t;
}

/** Tensor dimensions beyond this are not something torch can build (it caps at 64). */
const MAX_RANK = 64;

function intList(v: unknown, what: string, where: string): number[] {
  if (!Array.isArray(v) || v.length > MAX_RANK || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError('corrupt', `${where}: a tensor has an invalid ${what}; the file is damaged`);
  }
  return [...(v as number[])];
}

export function callGlobal(fn: unknown, args: unknown[], where: string): unknown {
  if (!(fn instanceof PyGlobal))
    throw new CheckpointError('corrupt', `${where}: the pickle calls a value that is not a class or function; the file is damaged`);
  switch (fn.qualified) {
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, shape, stride] = args as [StorageRef, unknown, unknown, unknown];
      if (!storage || storage.kind !== 'storage')
        throw new CheckpointError('corrupt', `${where}: a tensor has no storage; the file is damaged`);
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
        throw new CheckpointError('corrupt', `${where}: a tensor has an invalid storage offset; the file is damaged`);
      const dims = intList(shape, 'shape', where);
      const steps = intList(stride, 'stride', where);
      if (steps.length !== dims.length)
        throw new CheckpointError('corrupt', `${where}: a tensor's stride does not match its shape; the file is damaged`);
      return { kind: 'tensor', storage, offset, shape: dims, stride: steps } satisfies TensorRef;
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return args[0];
    case 'collections.OrderedDict':
    case 'builtins.dict':
      return new PyDict();
    case 'torch.jit._pickle.restore_type_tag':
    case 'torch.jit._pickle.build_intlist':
    case 'torch.jit._pickle.build_tensorlist':
    case 'torch.jit._pickle.build_doublelist':
    case 'torch.jit._pickle.build_boollist':
    case 'torch.jit._pickle.build_tensor_from_id':
      return args[0];
    default:
      return new PyObject(fn, args);
  }
}
