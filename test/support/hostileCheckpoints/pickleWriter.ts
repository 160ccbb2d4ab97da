// Writes pickle opcodes the way Python's pickle (protocol 2) does for torch.save, so tests can
// build both realistic and hostile data.pkl streams without Python or torch.

export const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  POP: 0x30,
  NONE: 0x4e,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE: 0x58,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_DICT: 0x7d,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  GLOBAL: 0x63,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
} as const;

export class PickleWriter {
  private buf = new Uint8Array(1024);
  private n = 0;
  private next = 0;
  private readonly memo = new Map<string, number>();

  constructor() {
    this.op(OP.PROTO, 2);
  }

  op(...bytes: number[]): this {
    this.ensure(bytes.length);
    for (const b of bytes) this.buf[this.n++] = b;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
    return this;
  }

  u32(v: number): this {
    return this.op(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  }

  /** Memoizes the value on top of the stack; returns its memo index. */
  put(): number {
    const i = this.next++;
    if (i < 256) this.op(OP.BINPUT, i);
    else this.op(OP.LONG_BINPUT).u32(i);
    return i;
  }

  get(i: number): this {
    return i < 256 ? this.op(OP.BINGET, i) : this.op(OP.LONG_BINGET).u32(i);
  }

  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(OP.BININT1, v);
    if (v >= 0 && v < 65536) return this.op(OP.BININT2, v & 255, v >> 8);
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(OP.BININT).u32(v >>> 0);
    const bytes: number[] = [];
    let x = BigInt(v);
    while (x !== 0n && x !== -1n) {
      bytes.push(Number(x & 255n));
      x >>= 8n;
    }
    if ((bytes[bytes.length - 1] & 0x80) !== (v < 0 ? 0x80 : 0)) bytes.push(v < 0 ? 255 : 0);
    return this.op(OP.LONG1, bytes.length, ...bytes);
  }

  /** A string, memoized like Python does (a repeated string is a BINGET). */
  str(s: string): this {
    const key = `s:${s}`;
    const m = this.memo.get(key);
    if (m !== undefined) return this.get(m);
    const b = new TextEncoder().encode(s);
    if (b.length < 256) this.op(OP.SHORT_BINUNICODE, b.length).raw(b);
    else this.op(OP.BINUNICODE).u32(b.length).raw(b);
    this.memo.set(key, this.put());
    return this;
  }

  global(module: string, name: string): this {
    const key = `g:${module}.${name}`;
    const m = this.memo.get(key);
    if (m !== undefined) return this.get(m);
    this.op(OP.GLOBAL).raw(new TextEncoder().encode(`${module}\n${name}\n`));
    this.memo.set(key, this.put());
    return this;
  }

  /** A tuple of ints (shape, stride), as Python writes it. */
  intTuple(xs: readonly number[]): this {
    if (xs.length === 0) return this.op(OP.EMPTY_TUPLE);
    if (xs.length > 3) this.op(OP.MARK);
    for (const x of xs) this.int(x);
    this.op(xs.length === 1 ? OP.TUPLE1 : xs.length === 2 ? OP.TUPLE2 : xs.length === 3 ? OP.TUPLE3 : OP.TUPLE);
    this.put();
    return this;
  }

  /** torch.Tensor.__reduce_ex__: _rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict()). */
  tensor(storageKey: string, shape: readonly number[], storageType = 'FloatStorage', numel = shape.reduce((a, b) => a * b, 1)): this {
    const stride: number[] = [];
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      stride.unshift(s);
      s *= shape[i];
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(OP.MARK);
    this.op(OP.MARK).str('storage').global('torch', storageType).str(storageKey).str('cpu').int(numel).op(OP.TUPLE);
    this.put();
    this.op(OP.BINPERSID).put();
    this.int(0).intTuple(shape).intTuple(stride).op(OP.NEWFALSE);
    this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
    this.put();
    this.op(OP.TUPLE).put();
    this.op(OP.REDUCE).put();
    return this;
  }

  /** An OrderedDict filled in SETITEMS batches of 1000, as pickle does; `value` writes each value. */
  orderedDict<T>(items: readonly [string, T][], value: (w: this, v: T) => void): this {
    this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
    this.put();
    for (let i = 0; i < items.length; i += 1000) {
      this.op(OP.MARK);
      for (const [k, v] of items.slice(i, i + 1000)) {
        this.str(k);
        value(this, v);
      }
      this.op(OP.SETITEMS);
    }
    return this;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }

  finish(): Uint8Array {
    return this.op(OP.STOP).bytes();
  }

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
}
