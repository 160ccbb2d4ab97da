// Reads back the parts of an ONNX ModelProto the int8 tests inspect (nodes, initializers,
// operator sets), from our own export or from ONNX Runtime's optimised graph: a minimal
// protobuf decoder (varint, fixed32/64, length-delimited; packed or unpacked repeated varints).

type Field = { field: number; wire: number; int?: bigint; bytes?: Uint8Array };

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const [field, wire] = [tag >>> 3, tag & 7];
    if (wire === 0) out.push({ field, wire, int: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, wire, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`protobuf: wire type ${wire} at ${pos}`);
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const strings = (fs: Field[], n: number) => fs.filter((f) => f.field === n).map((f) => text(f.bytes!));
/** Repeated int64 field n, packed (ORT writes dims packed) or not (we write them unpacked). */
function ints(fs: Field[], n: number): number[] {
  const out: number[] = [];
  for (const f of fs.filter((g) => g.field === n)) {
    if (f.wire === 0) out.push(Number(BigInt.asIntN(64, f.int!)));
    else for (const p of fields(packedAsTagged(f.bytes!, n))) out.push(Number(BigInt.asIntN(64, p.int!)));
  }
  return out;
}
/** Re-tags packed varints so `fields` can read them. */
function packedAsTagged(b: Uint8Array, n: number): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < b.length) {
    out.push(n << 3);
    do out.push(b[i]);
    while (b[i++] >= 0x80);
  }
  return Uint8Array.from(out);
}

export interface OnnxNode {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 float, 3 int8, 7 int64, ... */
  dataType: number;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxInitializer>;
  opsets: Map<string, number>;
}

export function readOnnxModel(bytes: Uint8Array): OnnxGraph {
  const model = fields(bytes);
  const graph = fields(model.find((f) => f.field === 7)!.bytes!);
  const opsets = new Map<string, number>();
  for (const o of model.filter((f) => f.field === 8)) {
    const fs = fields(o.bytes!);
    opsets.set(strings(fs, 1)[0] ?? '', Number(fs.find((f) => f.field === 2)?.int ?? 0n));
  }
  const nodes = graph
    .filter((f) => f.field === 1)
    .map((f) => {
      const fs = fields(f.bytes!);
      return {
        inputs: strings(fs, 1),
        outputs: strings(fs, 2),
        name: strings(fs, 3)[0] ?? '',
        op: strings(fs, 4)[0],
        domain: strings(fs, 7)[0] ?? '',
      };
    });
  const initializers = new Map<string, OnnxInitializer>();
  for (const f of graph.filter((g) => g.field === 5)) {
    const fs = fields(f.bytes!);
    const name = strings(fs, 8)[0];
    initializers.set(name, { name, dims: ints(fs, 1), dataType: Number(fs.find((g) => g.field === 2)?.int ?? 0n) });
  }
  return { nodes, initializers, opsets };
}
