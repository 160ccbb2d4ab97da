// A minimal, non-executing unpickler for the subset of pickle torch checkpoints use
// (protocols 2-5). Globals are never imported: they become `PyGlobal` markers, and calling one
// (REDUCE/NEWOBJ) either maps to a known torch rebuild function or yields an inert `PyObject`.
// Every read is bounds-checked, so a damaged stream ends with a 'corrupt' error, never a hang.
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

function tuple(items: unknown[]): PyTuple {
  const t = new PyTuple();
  for (const x of items) t.push(x);
  return t;
}

function call(fn: unknown, args: unknown[], where: string): unknown {
  if (!(fn instanceof PyGlobal)) throw new CheckpointError('corrupt', `${where}: pickle calls a non-callable value`);
  switch (fn.qualified) {
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
      if (!storage || storage.kind !== 'storage') throw new CheckpointError('corrupt', `${where}: tensor without a storage`);
      return { kind: 'tensor', storage, offset: Number(offset), shape: [...shape].map(Number), stride: [...stride].map(Number) } satisfies TensorRef;
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

/** Parses a pickle stream. `persistentLoad` resolves BINPERSID ids (torch storages). */
export function unpickle(bytes: Uint8Array, where: string, persistentLoad: (pid: unknown) => unknown): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const corrupt = (why: string): never => {
    throw new CheckpointError('corrupt', `${where}: damaged pickle stream (${why} at byte ${p})`);
  };
  const need = (n: number) => {
    if (p + n > bytes.byteLength) corrupt('unexpected end');
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), dv.getInt32(p - 4, true));
  const u64 = () => (need(8), (p += 8), Number(dv.getBigUint64(p - 8, true)));
  const take = (n: number) => (need(n), (p += n), bytes.subarray(p - n, p));
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) corrupt('unterminated line');
    const s = dec.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => (stack.length === 0 ? corrupt('stack underflow') : stack.pop());
  const top = () => (stack.length === 0 ? corrupt('empty stack') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) corrupt('missing mark');
    return stack.splice(m as number);
  };
  const longFrom = (b: Uint8Array): number => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number(v);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map)) return; // BUILD/SETITEMS on an unmodelled object: ignore.
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(longFrom(take(u8()))); break; // LONG1
      case 0x8b: stack.push(longFrom(take(u32()))); break; // LONG4
      case 0x49: { const s = line(); stack.push(s === '01' ? true : s === '00' ? false : parseInt(s, 10)); break; } // INT
      case 0x4c: stack.push(parseInt(line().replace(/L$/, ''), 10)); break; // LONG
      case 0x46: stack.push(parseFloat(line())); break; // FLOAT
      case 0x47: need(8); stack.push(dv.getFloat64(p, false)); p += 8; break; // BINFLOAT (big-endian)
      case 0x58: stack.push(dec.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(dec.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(dec.decode(take(u64()))); break; // BINUNICODE8
      case 0x56: stack.push(line()); break; // UNICODE (raw-unicode-escape; ASCII in practice)
      case 0x54: stack.push(dec.decode(take(u32()))); break; // BINSTRING
      case 0x55: stack.push(dec.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x53: stack.push(line().replace(/^'(.*)'$/, '$1')); break; // STRING
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x8e: case 0x96: stack.push(take(u64())); break; // BINBYTES8, BYTEARRAY8
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; }
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (Array.isArray(l)) l.push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = top(); if (Array.isArray(l)) l.push(...items); break; } // APPENDS
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x8f: stack.push([]); break; // EMPTY_SET
      case 0x90: { const items = popMark(); const s = top(); if (Array.isArray(s)) s.push(...items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x63: { const mod = line(); const name = line(); stack.push(new PyGlobal(mod, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const mod = pop(); stack.push(new PyGlobal(String(mod), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, Array.isArray(args) ? args : [], where)); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, Array.isArray(args) ? args : [], where)); break; } // NEWOBJ
      case 0x92: { pop(); const args = pop(); const cls = pop(); stack.push(call(cls, Array.isArray(args) ? args : [], where)); break; } // NEWOBJ_EX
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(persistentLoad(line())); break; // PERSID
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : parseInt(line(), 10);
        if (!memo.has(k)) corrupt(`memo ${k} missing`);
        stack.push(memo.get(k));
        break;
      }
      default:
        corrupt(`unknown opcode 0x${op.toString(16)}`);
    }
  }
}
