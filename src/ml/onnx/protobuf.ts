// A minimal protocol-buffers writer: just what ONNX's ModelProto needs (varints, 32-bit
// floats, length-delimited strings/bytes/sub-messages). Messages are trees whose large byte
// fields (weights) are referenced, not copied, until the one final write, so a 1.2 GB ViT-L
// is held once in JS while it is serialised (into one buffer or streamed to a file).
// Repeated scalars are written unpacked: every protobuf parser accepts that form.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Bytes needed for the unsigned varint of v (0 <= v < 2^64). */
function varintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** Two's complement for negatives (int32/int64 fields encode -1 as ten bytes). */
function toUnsigned(v: number | bigint): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b < 0n ? BigInt.asUintN(64, b) : b;
}

function writeVarint(out: number[], v: bigint): void {
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

type Part =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'lazy'; size: number; read: () => Uint8Array }
  | { kind: 'message'; field: number; msg: ProtoMessage };

export interface ByteSink {
  write(chunk: Uint8Array): void;
}

export class ProtoMessage {
  /** Pending small bytes (tags, varints, short strings) not yet moved into `parts`. */
  private pending: number[] = [];
  private readonly parts: Part[] = [];
  private cachedSize = -1;

  private tag(field: number, wire: number): void {
    writeVarint(this.pending, BigInt((field << 3) | wire));
  }

  private flushPending(): void {
    if (this.pending.length) {
      this.parts.push({ kind: 'bytes', data: Uint8Array.from(this.pending) });
      this.pending = [];
    }
  }

  /** int32, int64, uint64, enum or bool field. Integers only; negatives take ten bytes. */
  varint(field: number, value: number | bigint | boolean): this {
    if (typeof value === 'number' && !Number.isInteger(value))
      throw new Error(`protobuf varint field ${field}: ${value} is not an integer`);
    this.cachedSize = -1;
    this.tag(field, WIRE_VARINT);
    writeVarint(this.pending, toUnsigned(typeof value === 'boolean' ? (value ? 1 : 0) : value));
    return this;
  }

  /** float field (wire type fixed32, little-endian IEEE-754 single). */
  float(field: number, value: number): this {
    this.cachedSize = -1;
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** bytes field; large arrays are kept by reference (do not mutate them before writing). */
  bytes(field: number, data: Uint8Array): this {
    this.cachedSize = -1;
    this.tag(field, WIRE_LEN);
    writeVarint(this.pending, BigInt(data.byteLength));
    if (data.byteLength <= 64) {
      for (const x of data) this.pending.push(x);
    } else {
      this.flushPending();
      this.parts.push({ kind: 'bytes', data });
    }
    return this;
  }

  /**
   * bytes field of a known size whose content is produced only while writing (one weight at a
   * time, so a model's weights need not all be copied out of the tfjs backend at once).
   */
  lazyBytes(field: number, size: number, read: () => Uint8Array): this {
    this.cachedSize = -1;
    this.tag(field, WIRE_LEN);
    writeVarint(this.pending, BigInt(size));
    this.flushPending();
    this.parts.push({ kind: 'lazy', size, read });
    return this;
  }

  /** Embedded message field; `msg` must not change after it is added. */
  message(field: number, msg: ProtoMessage): this {
    this.cachedSize = -1;
    this.flushPending();
    this.parts.push({ kind: 'message', field, msg });
    return this;
  }

  /** Encoded size in bytes (without this message's own tag and length). */
  byteLength(): number {
    if (this.cachedSize >= 0) return this.cachedSize;
    let n = this.pending.length;
    for (const p of this.parts) {
      if (p.kind === 'bytes') n += p.data.byteLength;
      else if (p.kind === 'lazy') n += p.size;
      else {
        const len = p.msg.byteLength();
        n += varintSize(BigInt((p.field << 3) | WIRE_LEN)) + varintSize(BigInt(len)) + len;
      }
    }
    this.cachedSize = n;
    return n;
  }

  /** Streams the encoding, in order, to `sink`. */
  writeTo(sink: ByteSink): void {
    for (const p of this.parts) {
      if (p.kind === 'bytes') sink.write(p.data);
      else if (p.kind === 'lazy') {
        const data = p.read();
        if (data.byteLength !== p.size) throw new Error(`protobuf lazy field: expected ${p.size} bytes, got ${data.byteLength}`);
        sink.write(data);
      } else {
        const head: number[] = [];
        writeVarint(head, BigInt((p.field << 3) | WIRE_LEN));
        writeVarint(head, BigInt(p.msg.byteLength()));
        sink.write(Uint8Array.from(head));
        p.msg.writeTo(sink);
      }
    }
    if (this.pending.length) sink.write(Uint8Array.from(this.pending));
  }

  /** The whole encoding in one buffer (one copy of every weight). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength());
    let offset = 0;
    this.writeTo({
      write: (chunk) => {
        out.set(chunk, offset);
        offset += chunk.byteLength;
      },
    });
    if (offset !== out.byteLength) throw new Error(`protobuf size mismatch: wrote ${offset} of ${out.byteLength} bytes`);
    return out;
  }
}

/** Little-endian bytes of a typed array, viewed in place (no copy). */
export function bytesOf(a: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
