// The structural checks of each format, one rule per case: what a damaged or crafted file gets
// refused for, and what unusual-but-valid files still open.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../../src/ml/checkpoint/errors';
import { FileSource } from '../../../../src/ml/checkpoint/fileSource';
import { Budget } from '../../../../src/ml/checkpoint/limits';
import { openCheckpoint } from '../../../../src/ml/checkpoint/openCheckpoint';
import { ZipArchive } from '../../../../src/ml/checkpoint/zip';
import { oneTensorPickle, safetensors, torchZip } from '../../../support/hostileCheckpoints/hostileFiles';
import { OP, PickleWriter } from '../../../support/hostileCheckpoints/pickleWriter';
import { buildZip, type ZipInput } from '../../../support/hostileCheckpoints/zipWriter';
import { fixturePath, maxAbsDiff } from '../../../support/encoderFixtures';
import { probe } from '../../../support/checkpointProbe';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-structure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(bytes: Uint8Array, ext = '.bin'): string {
  const p = join(dir, `f${n++}${ext}`);
  writeFileSync(p, bytes);
  return p;
}

const floats = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** Kind of the error `fn` throws ('ok' when it does not), failing on anything but a CheckpointError. */
function kindOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof CheckpointError) return `${err.kind}: ${err.message}`;
    throw err;
  }
}

describe('safetensors header checks', () => {
  it('accepts entries in any order, and zero-length tensors anywhere', () => {
    const header = { b: f32([2], 8, 16), a: f32([2], 0, 8), empty: f32([0], 4, 4) };
    const bytes = safetensors(header, 16);
    bytes.set(floats([1, 2, 3, 4]), bytes.length - 16);
    const c = openCheckpoint(write(bytes, '.safetensors'));
    expect(Array.from(c.read('a'))).toEqual([1, 2]);
    expect(Array.from(c.read('b'))).toEqual([3, 4]);
    expect(c.read('empty').length).toBe(0);
    c.close();
  });

  const cases: [string, unknown, number, RegExp][] = [
    ['overlapping ranges', { a: f32([4], 0, 16), b: f32([2], 12, 20) }, 20, /corrupt: .*tensors a and b overlap/],
    ['a range past the data', { a: f32([4], 0, 16) }, 8, /truncated: .*ends at byte 16 of the data but the file holds only 8/],
    ['bytes that do not match dtype x shape', { a: f32([4], 0, 12) }, 12, /corrupt: .*has 12 bytes for shape \[4\] F32/],
    ['an unconverted dtype of the wrong size', { a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 8] } }, 8, /corrupt: .*has 8 bytes/],
    ['a negative dimension', { a: f32([-1], 0, 4) }, 4, /corrupt: .*malformed shape/],
    ['a fractional offset', { a: f32([1], 0.5, 4.5) }, 8, /corrupt: .*invalid data offsets/],
    ['an entry that is not an object', { weight: 7, bias: 8 }, 0, /corrupt: .*has no entry/],
    [
      'a name with a newline, kept on one line',
      { 'x\ny': f32([1], 0, 4), z: f32([1], 0, 4) },
      4,
      /corrupt: .*tensors x\\x0ay and z overlap/,
    ],
  ];
  for (const [what, header, data, expected] of cases) {
    it(`refuses ${what}`, () => {
      expect(kindOf(() => openCheckpoint(write(safetensors(header, data), '.safetensors')))).toMatch(expected);
    });
  }

  it('lists dtypes it cannot convert (or names like "constructor") and refuses them only when read', () => {
    const header = {
      a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] },
      b: { dtype: 'constructor', shape: [1], data_offsets: [4, 8] },
    };
    const c = openCheckpoint(write(safetensors(header, 8), '.safetensors'));
    expect(c.tensors.get('a')!.dtype).toBe('F8_E4M3');
    expect(kindOf(() => c.read('a'))).toMatch(/^unsupported-dtype/);
    expect(kindOf(() => c.read('b'))).toMatch(/^unsupported-dtype/);
    c.close();
  });
});

describe('zip directory checks', () => {
  const pkl = oneTensorPickle();
  const storage = (extra: Partial<ZipInput> = {}): ZipInput => ({ name: 'archive/data/0', data: floats([1, 2, 3, 4]), ...extra });

  it('reads a checkpoint whose entries were re-zipped with deflate, tensor for tensor', () => {
    const original = fixturePath('timm-vit.pth');
    const src = new FileSource(original);
    const zip = new ZipArchive(src, new Budget(original));
    const bytes = buildZip([...zip.entries.values()].map((e) => ({ name: e.name, data: zip.read(e), deflate: true })));
    src.close();
    const a = openCheckpoint(original);
    const b = openCheckpoint(write(bytes));
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (const name of a.tensors.keys()) if (a.tensors.get(name)!.dtype === 'F32') expect(maxAbsDiff(a.read(name), b.read(name))).toBe(0);
    [a, b].forEach((c) => c.close());
  });

  const cases: [string, ZipInput[], RegExp][] = [
    ['an entry name listed twice', [{ name: 'archive/data.pkl', data: pkl }, storage(), storage()], /corrupt: .*appears twice/],
    [
      'a stored entry whose sizes differ',
      [{ name: 'archive/data.pkl', data: pkl }, storage({ size: 8 })],
      /corrupt: .*stored, yet 16 bytes hold 8/,
    ],
    [
      'a deflated entry that inflates to less than it declares',
      [{ name: 'archive/data.pkl', data: pkl }, storage({ deflate: true, size: 20 })],
      /corrupt: .*inflates to 16 bytes but declares 20/,
    ],
    [
      'a deflate ratio no compressor can reach',
      [{ name: 'archive/data.pkl', data: pkl }, storage({ deflate: true, size: 10_000_000 })],
      /corrupt: .*claims 10000000 bytes from \d+ compressed/,
    ],
    [
      'a storage too short for its tensor',
      [{ name: 'archive/data.pkl', data: pkl }, storage({ data: floats([1, 2]) })],
      /corrupt: .*should hold 16 bytes but its zip entry has 8/,
    ],
  ];
  for (const [what, entries, expected] of cases) {
    it(`refuses ${what}`, () => {
      expect(kindOf(() => probeOrThrow(write(buildZip(entries))))).toMatch(expected);
    });
  }

  /** {'t0': view of storage s0, 't1': view of s1, ...}: four-float views into 64-float storages. */
  function views(storageOf: (i: number) => string, count: number): Uint8Array {
    const w = new PickleWriter();
    w.op(OP.EMPTY_DICT).put();
    for (let i = 0; i < count; i++) w.str(`t${i}`).tensor(storageOf(i), [4], 'FloatStorage', 64).op(OP.SETITEM);
    return w.finish();
  }
  const deflated = (key: string): ZipInput => ({ name: key, data: floats(new Array(64).fill(1)), deflate: true });

  it('inflates a deflated storage once for all the views into it', () => {
    expect(
      probe(
        write(
          torchZip(
            views(() => 's', 50),
            [deflated('s')],
          ),
        ),
      ).outcome,
    ).toBe('ok');
  });

  it('refuses a file built to re-inflate its storages for every tensor', () => {
    const r = probe(
      write(
        torchZip(
          views((i) => `s${i % 2}`, 50),
          [deflated('s0'), deflated('s1')],
        ),
      ),
    );
    expect(r.outcome).toBe('limit-exceeded');
    expect(r.message).toMatch(/would inflate more than twice the 512 bytes its entries hold/);
  });

  it('refuses a local entry offset inside the central directory', () => {
    const bytes = buildZip([{ name: 'archive/data.pkl', data: pkl }, storage()]);
    const cd = Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); // last central entry
    new DataView(bytes.buffer).setUint32(cd + 42, cd, true);
    expect(kindOf(() => openCheckpoint(write(bytes)))).toMatch(/corrupt: .*runs into the central directory/);
  });
});

/** Opens and reads every float tensor, throwing the first error (probe() returns it instead). */
function probeOrThrow(path: string): void {
  const r = probe(path);
  if (r.outcome !== 'ok') throw new CheckpointError(r.outcome, r.message);
}

describe('torch pickle checks', () => {
  const oneStorage = [{ name: '0', data: floats([1, 2, 3, 4]) }];

  /** {'w': _rebuild_tensor_v2(<persid>, 0, <shape>, <stride>, False, OrderedDict())} with parts written by the caller. */
  function rebuild(parts: { persid?: (w: PickleWriter) => void; shape?: (w: PickleWriter) => void; stride?: number[] }): Uint8Array {
    const w = new PickleWriter();
    w.op(OP.EMPTY_DICT).put();
    w.str('w').global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
    if (parts.persid) parts.persid(w);
    else w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4).op(OP.TUPLE);
    w.op(OP.BINPERSID).int(0);
    if (parts.shape) parts.shape(w);
    else w.intTuple([4]);
    w.intTuple(parts.stride ?? [1])
      .op(OP.NEWFALSE)
      .global('collections', 'OrderedDict')
      .op(OP.EMPTY_TUPLE, OP.REDUCE);
    w.op(OP.TUPLE, OP.REDUCE, OP.SETITEM);
    return w.finish();
  }

  const cases: [string, Uint8Array, RegExp][] = [
    [
      'a tensor running past its storage',
      rebuild({ shape: (w) => w.intTuple([8]) }),
      /corrupt: .*runs past the end of its storage of 4 elements/,
    ],
    [
      'a strided tensor running past its storage',
      rebuild({ shape: (w) => w.intTuple([2, 2]), stride: [4, 1] }),
      /corrupt: .*runs past the end/,
    ],
    ['a shape that is a dict', rebuild({ shape: (w) => w.op(OP.EMPTY_DICT) }), /corrupt: .*invalid shape/],
    [
      'a storage id whose key is a number',
      rebuild({ persid: (w) => w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').int(0).str('cpu').int(4).op(OP.TUPLE) }),
      /corrupt: .*storage id is malformed/,
    ],
    [
      'a module name that is a list (STACK_GLOBAL)',
      new PickleWriter().op(OP.EMPTY_LIST, OP.SHORT_BINUNICODE, 1, 0x78, 0x93).finish(),
      /corrupt: .*global name is not a string/,
    ],
  ];
  for (const [what, pickle, expected] of cases) {
    it(`refuses ${what}`, () => {
      expect(kindOf(() => probeOrThrow(write(torchZip(pickle, oneStorage))))).toMatch(expected);
    });
  }

  it('refuses to copy an expanded view larger than its storage (a few bytes asking for gigabytes)', () => {
    const pickle = rebuild({ shape: (w) => w.intTuple([2 ** 30, 4]), stride: [0, 1] });
    const c = openCheckpoint(write(torchZip(pickle, oneStorage)));
    expect(c.tensors.get('w')!.shape).toEqual([2 ** 30, 4]);
    expect(kindOf(() => c.read('w'))).toMatch(/^unsupported-format: .*expanded view \(4294967296 elements over a storage of 4\)/);
    c.close();
  });

  it('lists a storage type named "constructor" as U8 and refuses it only when read', () => {
    const w = new PickleWriter();
    w.op(OP.EMPTY_DICT).put();
    w.str('w').tensor('0', [4], 'constructor').op(OP.SETITEM);
    const c = openCheckpoint(write(torchZip(w.finish(), oneStorage)));
    expect(c.tensors.get('w')!.dtype).toBe('U8');
    expect(kindOf(() => c.read('w'))).toMatch(/^unsupported-dtype/);
    c.close();
  });

  it('names a tensor in a cycle once, and a tied tensor under each of its keys', () => {
    const w = new PickleWriter();
    const d = (w.op(OP.EMPTY_DICT), w.put());
    w.op(OP.MARK).str('self').get(d).str('w').tensor('0', [4]);
    const t = w.put();
    w.str('tied').get(t).op(OP.SETITEMS);
    const c = openCheckpoint(write(torchZip(w.finish(), oneStorage)));
    expect([...c.tensors.keys()]).toEqual(['w', 'tied']);
    expect(Array.from(c.read('tied'))).toEqual([1, 2, 3, 4]);
    c.close();
  });
});
