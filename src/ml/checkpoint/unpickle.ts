// A minimal, non-executing unpickler for the subset of pickle torch checkpoints use
// (protocols 2-5); the values it builds are in pyValues.ts. Every read is bounds-checked, so a
// damaged stream ends with a 'corrupt' error; every opcode is counted against the Budget, so a
// hostile one (150 M EMPTY_LIST in a 130 KB deflated entry, a 200 KB integer) ends with a
// 'limit-exceeded' error in bounded time and memory instead of a hang or an out-of-memory crash.
import { CheckpointError } from './errors';
import type { Budget } from './limits';
import { callGlobal, PyDict, PyGlobal, PyObject, tuple } from './pyValues';

export { isTensorRef, PyDict, PyGlobal, PyObject, PyTuple, type StorageRef, type TensorRef } from './pyValues';

/** Budgets are compared every this many opcodes: cheap, and no single step can outrun them by much. */
const CHECK_EVERY = 4096;
/**
 * A dict, module object or tensor (anything a call or EMPTY_DICT builds) counts as this many values
 * against maxObjects: a Map costs ~220 bytes against ~40 for a list or short string, so a flood of
 * dicts is bounded in bytes like a flood of anything else.
 */
const HEAVY = 4;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Little-endian two's-complement LONG1/LONG4 payload, in time linear in its length. */
function longFrom(b: Uint8Array): number {
  if (b.length === 0) return 0;
  let v: bigint;
  if (b.length <= 8) {
    v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  } else {
    // Shifting a BigInt byte by byte is quadratic (26 s for 200 KB); hex parsing is linear.
    const digits = new Array<string>(b.length);
    for (let i = 0; i < b.length; i++) digits[i] = HEX[b[b.length - 1 - i]];
    v = BigInt(`0x${digits.join('')}`);
  }
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v); // beyond 2^53 inexact, beyond ~2^1024 Infinity: no checkpoint field is that large
}

/**
 * Parses a pickle stream; `entry` names it in messages (e.g. 'archive/data.pkl').
 * `persistentLoad` resolves BINPERSID ids (torch storages).
 */
export function unpickle(bytes: Uint8Array, entry: string, budget: Budget, persistentLoad: (pid: unknown) => unknown): unknown {
  const { maxOpcodes, maxObjects, maxItems } = budget.limits;
  const where = `${budget.path}: ${entry}`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const marks: number[] = [];
  // Picklers number memo entries densely from 0, so an array is the fast, compact memo (a Map
  // of 4 M entries took 6 s and 300 MB). `memoSize` counts the distinct keys (MEMOIZE needs it).
  const memo: unknown[] = [];
  let memoSize = 0;
  let p = 0;
  let ops = 0;
  let objects = 0; // values allocated
  let items = 0; // slots filled in containers
  const corrupt = (why: string): never => {
    throw new CheckpointError('corrupt', `${where}: damaged pickle stream (${why} at byte ${p}); the file is damaged, copy it again`);
  };
  const checkBudgets = () => {
    if (ops > maxOpcodes) throw budget.exceeded(`${entry} runs more than ${maxOpcodes.toLocaleString('en')} opcodes`);
    if (objects > maxObjects) throw budget.exceeded(`${entry} builds more than ${maxObjects.toLocaleString('en')} values`);
    if (items + memoSize + stack.length + marks.length > maxItems)
      throw budget.exceeded(`${entry} holds more than ${maxItems.toLocaleString('en')} items`);
    budget.checkTime(`reading ${entry}`);
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
  // Short ASCII strings (storage keys, 'cpu', memo indices of text opcodes) are most of a real
  // pickle; building them by concatenation is 2x faster than a TextDecoder call. Only up to 12
  // characters: V8 keeps those flat, while longer ones become ropes of one node per character
  // (1 M strings of 60 characters took 1.5 GB and 8 s).
  const text = (start: number, end: number): string => {
    if (end - start > 12) return dec.decode(bytes.subarray(start, end));
    let s = '';
    for (let i = start; i < end; i++) {
      if (bytes[i] >= 0x80) return dec.decode(bytes.subarray(start, end));
      s += String.fromCharCode(bytes[i]);
    }
    return s;
  };
  const utf8 = (n: number) => (need(n), (p += n), text(p - n, p));
  const line = () => {
    let end = p;
    while (end < bytes.length && bytes[end] !== 0x0a) end++;
    if (end === bytes.length) corrupt('unterminated line');
    const s = text(p, end);
    p = end + 1;
    return s;
  };
  // Every opcode that allocates goes through `obj`, every container fill through `fill`.
  const obj = <T>(v: T): T => (objects++, v);
  const heavy = <T>(v: T): T => ((objects += HEAVY), v);
  const fill = (n: number) => {
    items += n;
  };
  const pop = () => (stack.length === 0 ? corrupt('stack underflow') : stack.pop());
  const top = () => (stack.length === 0 ? corrupt('empty stack') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) corrupt('missing mark');
    const got = stack.splice(m as number);
    fill(got.length);
    return got;
  };
  const str = (v: unknown): string => (typeof v === 'string' ? v : corrupt('a global name is not a string'));
  const extend = (l: unknown, xs: readonly unknown[]) => {
    if (Array.isArray(l)) for (let i = 0; i < xs.length; i++) l.push(xs[i]);
  };
  const setItems = (d: unknown, kv: readonly unknown[]) => {
    if (!(d instanceof Map)) return; // BUILD/SETITEMS on an unmodelled object: ignore.
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const argList = (args: unknown): unknown[] => (Array.isArray(args) ? args : []);
  const memoKey = (s: string): number => {
    const k = Number(s);
    return Number.isInteger(k) && k >= 0 && k < 2 ** 32 ? k : corrupt(`memo key ${JSON.stringify(s.slice(0, 20))}`);
  };
  const memoPut = (k: number) => {
    const v = top();
    if (memo[k] === undefined) memoSize++;
    memo[k] = v === undefined ? null : v;
  };

  for (;;) {
    if (++ops % CHECK_EVERY === 0) checkBudgets();
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME
      case 0x2e:
        checkBudgets();
        return pop(); // STOP
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(i32());
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(obj(longFrom(take(u8()))));
        break; // LONG1
      case 0x8b:
        stack.push(obj(longFrom(take(u32()))));
        break; // LONG4
      case 0x49: {
        const s = line();
        stack.push(obj(s === '01' ? true : s === '00' ? false : parseInt(s, 10)));
        break;
      } // INT
      case 0x4c:
        stack.push(obj(parseInt(line().replace(/L$/, ''), 10)));
        break; // LONG
      case 0x46:
        stack.push(obj(parseFloat(line())));
        break; // FLOAT
      case 0x47:
        need(8);
        stack.push(obj(dv.getFloat64(p, false)));
        p += 8;
        break; // BINFLOAT (big-endian)
      case 0x58:
        stack.push(obj(utf8(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(obj(utf8(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(obj(utf8(u64())));
        break; // BINUNICODE8
      case 0x56:
        stack.push(obj(line()));
        break; // UNICODE (raw-unicode-escape; ASCII in practice)
      case 0x54:
        stack.push(obj(utf8(u32())));
        break; // BINSTRING
      case 0x55:
        stack.push(obj(utf8(u8())));
        break; // SHORT_BINSTRING
      case 0x53:
        stack.push(obj(line().replace(/^'(.*)'$/, '$1')));
        break; // STRING
      case 0x42:
        stack.push(obj(take(u32())));
        break; // BINBYTES
      case 0x43:
        stack.push(obj(take(u8())));
        break; // SHORT_BINBYTES
      case 0x8e:
      case 0x96:
        stack.push(obj(take(u64())));
        break; // BINBYTES8, BYTEARRAY8
      case 0x29:
        stack.push(obj(tuple([])));
        break; // EMPTY_TUPLE
      case 0x85:
        fill(1);
        stack.push(obj(tuple([pop()])));
        break; // TUPLE1
      case 0x86: {
        fill(2);
        const b = pop();
        const a = pop();
        stack.push(obj(tuple([a, b])));
        break;
      }
      case 0x87: {
        fill(3);
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(obj(tuple([a, b, c])));
        break;
      }
      case 0x74:
        stack.push(obj(tuple(popMark())));
        break; // TUPLE
      case 0x5d:
        stack.push(obj([]));
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(obj(popMark()));
        break; // LIST
      case 0x61: {
        fill(1);
        const v = pop();
        const l = top();
        if (Array.isArray(l)) l.push(v);
        break;
      } // APPEND
      case 0x65: {
        const xs = popMark();
        extend(top(), xs);
        break;
      } // APPENDS
      case 0x7d:
        stack.push(heavy(new PyDict()));
        break; // EMPTY_DICT
      case 0x64: {
        const d = heavy(new PyDict());
        setItems(d, popMark());
        stack.push(d);
        break;
      } // DICT
      case 0x73: {
        fill(2);
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x8f:
        stack.push(obj([]));
        break; // EMPTY_SET
      case 0x90: {
        const xs = popMark();
        extend(top(), xs);
        break;
      } // ADDITEMS
      case 0x91:
        stack.push(obj(popMark()));
        break; // FROZENSET
      case 0x63: {
        const mod = line();
        const name = line();
        stack.push(obj(new PyGlobal(mod, name)));
        break;
      } // GLOBAL
      case 0x93: {
        const name = str(pop());
        const mod = str(pop());
        stack.push(obj(new PyGlobal(mod, name)));
        break;
      } // STACK_GLOBAL
      case 0x52: {
        const args = pop();
        const fn = pop();
        stack.push(heavy(callGlobal(fn, argList(args), where)));
        break;
      } // REDUCE
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(heavy(callGlobal(cls, argList(args), where)));
        break;
      } // NEWOBJ
      case 0x92: {
        pop();
        const args = pop();
        const cls = pop();
        stack.push(heavy(callGlobal(cls, argList(args), where)));
        break;
      } // NEWOBJ_EX
      case 0x62: {
        // BUILD
        const state = pop();
        const o = top();
        if (o instanceof PyObject) o.state = state;
        break;
      }
      case 0x51:
        stack.push(obj(persistentLoad(pop())));
        break; // BINPERSID
      case 0x50:
        stack.push(obj(persistentLoad(line())));
        break; // PERSID
      case 0x71:
        memoPut(u8());
        break; // BINPUT
      case 0x72:
        memoPut(u32());
        break; // LONG_BINPUT
      case 0x70:
        memoPut(memoKey(line()));
        break; // PUT
      case 0x94:
        memoPut(memoSize);
        break; // MEMOIZE
      case 0x68:
      case 0x6a:
      case 0x67: {
        // BINGET, LONG_BINGET, GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : memoKey(line());
        if (memo[k] === undefined) corrupt(`memo ${k} missing`);
        stack.push(memo[k]);
        break;
      }
      default:
        corrupt(`unknown opcode 0x${op.toString(16)}`);
    }
  }
}
