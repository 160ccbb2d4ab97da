// The hand-written protobuf/ONNX writer: wire-format bytes checked against the protobuf
// encoding rules, streaming equals one-buffer encoding, and a small hand-built graph (every op
// kind the ViT export uses) parsed and run by onnxruntime-node with known results.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/ml/onnx/graphBuilder';
import { writeModelFile } from '../../../../src/ml/onnx/modelCache';
import { attributeProto, tensorProto } from '../../../../src/ml/onnx/onnxProto';
import { loadOnnxRuntime, openSession } from '../../../../src/ml/inference/ortRuntime';
import { ProtoMessage } from '../../../../src/ml/onnx/protobuf';

const dir = mkdtempSync(join(tmpdir(), 'onnx-proto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf writer', () => {
  it('encodes varints (incl. negative int64), floats, strings and nested messages per the wire format', () => {
    expect(hex(new ProtoMessage().varint(1, 150).toBytes())).toBe('089601'); // protobuf docs example
    expect(hex(new ProtoMessage().varint(2, 300).toBytes())).toBe('10ac02');
    expect(hex(new ProtoMessage().varint(3, -1).toBytes())).toBe('18ffffffffffffffffff01'); // ten bytes
    expect(hex(new ProtoMessage().varint(1, 2 ** 40).toBytes())).toBe('08808080808020');
    expect(hex(new ProtoMessage().float(2, 1.5).toBytes())).toBe('150000c03f');
    expect(hex(new ProtoMessage().string(2, 'testing').toBytes())).toBe('120774657374696e67'); // docs example
    const inner = new ProtoMessage().varint(1, 150);
    expect(hex(new ProtoMessage().message(3, inner).toBytes())).toBe('1a03089601'); // docs example
    expect(() => new ProtoMessage().varint(1, 1.5)).toThrow(/not an integer/);
  });

  it('keeps large byte fields by reference, sizes nested trees exactly and streams the same bytes', () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const leaf = new ProtoMessage().string(1, 'w').bytes(9, big);
    const root = new ProtoMessage().varint(1, 8).message(7, new ProtoMessage().message(5, leaf).string(2, 'g'));
    const bytes = root.toBytes();
    expect(bytes.length).toBe(root.byteLength());
    const chunks: Uint8Array[] = [];
    root.writeTo({ write: (c) => void chunks.push(c) });
    expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
    expect(chunks).toContain(big); // written from the caller's array, not a copy
    const path = join(dir, 'stream.bin');
    expect(writeModelFile(path, root)).toBe(bytes.length);
    expect(readFileSync(path).equals(Buffer.from(bytes))).toBe(true);
  });

  it('lazy byte fields are read only while writing, once per write, and must have their declared size', () => {
    let reads = 0;
    const m = tensorProto('t', [2], () => {
      reads++;
      return Float32Array.of(1, 2);
    });
    expect(reads).toBe(0);
    expect(m.byteLength()).toBe(tensorProto('t', [2], Float32Array.of(1, 2)).byteLength());
    expect(hex(m.toBytes())).toBe(hex(tensorProto('t', [2], Float32Array.of(1, 2)).toBytes()));
    expect(reads).toBe(1);
    expect(() => tensorProto('t', [3], () => Float32Array.of(1, 2)).toBytes()).toThrow(/hold 3 values, got 2/);
    expect(() => new ProtoMessage().lazyBytes(1, 4, () => new Uint8Array(3)).toBytes()).toThrow(/expected 4 bytes, got 3/);
  });

  it('writes ONNX attributes and initializers with their field numbers and types', () => {
    // AttributeProto{name:'axis'(1), i:-1 (3), type:INT=2 (20)}
    expect(hex(attributeProto('axis', { i: -1 }).toBytes())).toBe('0a0461786973' + '18ffffffffffffffffff01' + 'a00102');
    // TensorProto{dims:[2](1), data_type:FLOAT=1 (2), name:'t'(8), raw_data(9)}
    expect(hex(tensorProto('t', [2], Float32Array.of(1, 2)).toBytes())).toBe('0802' + '1001' + '420174' + '4a08' + '0000803f00000040');
    expect(() => tensorProto('t', [3], Float32Array.of(1, 2))).toThrow(/hold 3 values, got 2/);
  });
});

describe('a hand-built graph runs in onnxruntime-node', () => {
  it('Reshape/Transpose/MatMul/Add/Split/LayerNormalization/Softmax/Erf/Gather/Shape/Expand/Concat/Conv give the expected numbers', async () => {
    const loaded = await loadOnnxRuntime();
    if (!loaded.ok) throw new Error(loaded.reason);
    const g = new GraphBuilder('t');
    const x = g.input('x', ['batch', 1, 2, 2]); // [N, 1, 2, 2]
    // Conv with a 2x2 kernel of ones and stride 2 = sum of the 4 pixels -> [N, 1, 1, 1]
    const conv = g.op('Conv', [x, g.weight('k', [1, 1, 2, 2], Float32Array.of(1, 1, 1, 1))], {
      kernel_shape: { ints: [2, 2] },
      strides: { ints: [2, 2] },
    });
    const flat = g.op('Reshape', [x, g.int64([0, -1])]); // [N, 4]
    const t = g.op('Transpose', [g.op('Reshape', [flat, g.int64([0, 2, 2])])], { perm: { ints: [0, 2, 1] } }); // [N, 2, 2] transposed
    const mm = g.op('Add', [
      g.op('MatMul', [flat, g.weight('w', [4, 2], Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1))]),
      g.weight('b', [2], Float32Array.of(10, 20)),
    ]); // [N, 2]
    const [s0, s1] = g.opN('Split', [flat, g.int64([1, 3])], 2, { axis: { i: 1 } });
    const ln = g.op(
      'LayerNormalization',
      [flat, g.weight('g', [4], Float32Array.of(1, 1, 1, 1)), g.weight('be', [4], new Float32Array(4))],
      { axis: { i: -1 }, epsilon: { f: 1e-5 } },
    );
    const sm = g.op('Softmax', [flat], { axis: { i: -1 } });
    const erf = g.op('Erf', [s0]);
    const first = g.op('Gather', [t, g.int64([0], [])], { axis: { i: 1 } }); // [N, 2]
    const n = g.op('Shape', [x], { start: { i: 0 }, end: { i: 1 } });
    const ex = g.op('Expand', [g.weight('c', [1, 2], Float32Array.of(7, 8)), g.op('Concat', [n, g.int64([2])], { axis: { i: 0 } })]);
    for (const [name, v, dims] of [
      ['conv', conv, ['batch', 1, 1, 1]],
      ['mm', mm, ['batch', 2]],
      ['s1', s1, ['batch', 3]],
      ['ln', ln, ['batch', 4]],
      ['sm', sm, ['batch', 4]],
      ['erf', erf, ['batch', 1]],
      ['first', first, ['batch', 2]],
      ['ex', ex, ['batch', 2]],
    ] as const) {
      g.output(`out_${name}`, v, dims);
    }
    expect(() => g.output('out_mm', mm, ['batch', 2])).toThrow(/already used/);
    const { session } = await openSession(loaded.ort, g.toModel().toBytes(), { threads: 1, providers: ['cpu'] });
    const data = Float32Array.of(1, 2, 3, 4, 0, 0, 0, 1);
    const r = await session.run({ x: new loaded.ort.Tensor('float32', data, [2, 1, 2, 2]) });
    const get = (k: string) => Array.from(r[`out_${k}`].data as Float32Array);
    expect(get('conv')).toEqual([10, 1]);
    expect(get('mm')).toEqual([1 + 3 + 10, 2 + 4 + 20, 10, 21]);
    expect(get('s1')).toEqual([2, 3, 4, 0, 0, 1]);
    expect(get('first')).toEqual([1, 3, 0, 0]);
    expect(get('ex')).toEqual([7, 8, 7, 8]);
    const ln0 = get('ln').slice(0, 4);
    const sd = Math.sqrt(1.25 + 1e-5);
    ln0.forEach((v, i) => expect(v).toBeCloseTo((i + 1 - 2.5) / sd, 5));
    const e = [1, 2, 3, 4].map(Math.exp);
    get('sm')
      .slice(0, 4)
      .forEach((v, i) => expect(v).toBeCloseTo(e[i] / e.reduce((a, b) => a + b), 6));
    expect(get('erf')[0]).toBeCloseTo(0.8427007929, 6);
    await session.release();
  });
});
