// The few ONNX messages we write (field numbers from onnx/onnx.proto, IR version 8 = opset 17):
// ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto.
import { bytesOf, ProtoMessage } from './protobuf';

export const IR_VERSION = 8;
export const OPSET = 17;

/** TensorProto.DataType values we use. */
export const DataType = { FLOAT: 1, INT8: 3, INT64: 7 } as const;

/** AttributeProto.AttributeType. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type AttrValue = { f: number } | { i: number } | { s: string } | { ints: number[] } | { floats: number[] };

export function attributeProto(name: string, v: AttrValue): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  if ('f' in v) m.float(2, v.f).varint(20, AttrType.FLOAT);
  else if ('i' in v) m.varint(3, v.i).varint(20, AttrType.INT);
  else if ('s' in v) m.string(4, v.s).varint(20, AttrType.STRING);
  else if ('floats' in v) {
    for (const x of v.floats) m.float(7, x);
    m.varint(20, AttrType.FLOATS);
  } else {
    for (const x of v.ints) m.varint(8, x);
    m.varint(20, AttrType.INTS);
  }
  return m;
}

/** Float32 data now, or a function that produces it when the model is written. */
export type F32Source = Float32Array | (() => Float32Array);

/** An initializer: dims, data type and raw little-endian data (x86/ARM: host order). */
export function tensorProto(name: string, dims: readonly number[], data: F32Source | BigInt64Array): ProtoMessage {
  const count = dims.reduce((a, b) => a * b, 1);
  const check = (n: number) => {
    if (count !== n) throw new Error(`initializer ${name}: dims [${dims}] hold ${count} values, got ${n}`);
  };
  const m = new ProtoMessage();
  for (const d of dims) m.varint(1, d);
  m.varint(2, data instanceof BigInt64Array ? DataType.INT64 : DataType.FLOAT);
  m.string(8, name);
  if (typeof data === 'function') {
    m.lazyBytes(9, count * 4, () => {
      const a = data();
      check(a.length);
      return bytesOf(a);
    });
  } else {
    check(data.length);
    m.bytes(9, bytesOf(data));
  }
  return m;
}

/** Int8 data now, or produced when written (quantized weights, see quantize.ts). */
export type I8Source = Int8Array | (() => Int8Array);

/** An int8 initializer (raw data, one byte per value). */
export function int8TensorProto(name: string, dims: readonly number[], data: I8Source): ProtoMessage {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = (a: Int8Array) => {
    if (a.length !== count) throw new Error(`initializer ${name}: dims [${dims}] hold ${count} values, got ${a.length}`);
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  };
  const m = new ProtoMessage();
  for (const d of dims) m.varint(1, d);
  m.varint(2, DataType.INT8).string(8, name);
  return typeof data === 'function' ? m.lazyBytes(9, count, () => bytes(data())) : m.bytes(9, bytes(data));
}

export function nodeProto(
  op: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
  domain = '',
): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs)) m.message(5, attributeProto(k, v));
  if (domain) m.string(7, domain);
  return m;
}

/** A float32 graph input/output; string dims are symbolic (e.g. 'batch'). */
export function valueInfoProto(name: string, dims: readonly (number | string)[], elemType: number = DataType.FLOAT): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoMessage().varint(1, d) : new ProtoMessage().string(2, d));
  const tensorType = new ProtoMessage().varint(1, elemType).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

export interface GraphParts {
  name: string;
  nodes: ProtoMessage[];
  initializers: ProtoMessage[];
  inputs: ProtoMessage[];
  outputs: ProtoMessage[];
}

export function graphProto(g: GraphParts): ProtoMessage {
  const m = new ProtoMessage();
  for (const n of g.nodes) m.message(1, n);
  m.string(2, g.name);
  for (const t of g.initializers) m.message(5, t);
  for (const i of g.inputs) m.message(11, i);
  for (const o of g.outputs) m.message(12, o);
  return m;
}

/**
 * `domains`: extra operator sets beyond ONNX's own, e.g. { 'com.microsoft': 1 } for ONNX
 * Runtime's contrib ops.
 */
export function modelProto(
  graph: ProtoMessage,
  metadata: Record<string, string>,
  producerVersion = '1',
  domains: Record<string, number> = {},
): ProtoMessage {
  const m = new ProtoMessage().varint(1, IR_VERSION).string(2, 'cytotune').string(3, producerVersion).message(7, graph);
  m.message(8, new ProtoMessage().string(1, '').varint(2, OPSET));
  for (const [d, v] of Object.entries(domains)) m.message(8, new ProtoMessage().string(1, d).varint(2, v));
  for (const [k, v] of Object.entries(metadata)) m.message(14, new ProtoMessage().string(1, k).string(2, v));
  return m;
}
