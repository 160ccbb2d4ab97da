// Generators for the hostile checkpoint files the readers must refuse quickly (see
// test/unit/ml/checkpoint/hostile.test.ts). Each reproduces a file that once hung or exhausted
// the readers; all are built in memory in well under a second and are at most a few MB, so
// nothing big is committed. `make.ts` writes them to a folder for trying them by hand.
import { constants, deflateRawSync } from 'node:zlib';
import { OP, PickleWriter } from './pickleWriter';
import { buildZip, type ZipInput } from './zipWriter';

export interface HostileFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * A raw deflate stream of `times` copies of `unit`, between `head` and `tail`, without ever
 * holding the inflated data: each part is compressed once with a full flush (which resets the
 * compressor's history, so the part decodes the same anywhere) and the copies are concatenated.
 */
export function repeatedDeflate(head: Uint8Array, unit: Uint8Array, times: number, tail: Uint8Array): Uint8Array {
  const flushed = (b: Uint8Array) => deflateRawSync(b, { finishFlush: constants.Z_FULL_FLUSH, strategy: constants.Z_RLE });
  const h = flushed(head);
  const u = flushed(unit);
  const t = deflateRawSync(tail);
  const out = new Uint8Array(h.length + u.length * times + t.length);
  out.set(h, 0);
  for (let i = 0; i < times; i++) out.set(u, h.length + i * u.length);
  out.set(t, h.length + u.length * times);
  return out;
}

const F32_ZEROS = (n: number) => new Uint8Array(4 * n);

/** A torch.save-style zip: `archive/data.pkl` plus its storages. */
export function torchZip(pickle: Uint8Array | ZipInput, storages: ZipInput[] = [], archive = 'archive'): Uint8Array {
  const pkl: ZipInput =
    pickle instanceof Uint8Array ? { name: `${archive}/data.pkl`, data: pickle } : { ...pickle, name: `${archive}/data.pkl` };
  return buildZip([pkl, ...storages.map((s) => ({ ...s, name: `${archive}/data/${s.name}` }))]);
}

/** {'w': tensor} pickled, the smallest real checkpoint (storage '0', 4 floats). */
export function oneTensorPickle(): Uint8Array {
  const w = new PickleWriter();
  w.op(OP.EMPTY_DICT).put();
  w.str('w').tensor('0', [4]).op(OP.SETITEM);
  return w.finish();
}

/** data.pkl is d = {}; d['a'] = d['b'] = d. ~160 bytes in all; the walk took 2^64 steps. */
export function selfReferencingDict(): HostileFile {
  const w = new PickleWriter();
  const d = (w.op(OP.EMPTY_DICT), w.put());
  w.op(OP.MARK).str('a').get(d).str('b').get(d).op(OP.SETITEMS);
  return { name: 'self-referencing-dict.bin', bytes: torchZip(w.finish()) };
}

/**
 * d0 = {} (or {'w': tensor}); d[i] = {'a': d[i-1], 'b': d[i-1]}: 2^levels paths to d0 through
 * memo references. The walk used to follow every path.
 */
export function sharedDictDag(levels = 40, withTensor = false): HostileFile {
  const w = new PickleWriter();
  let prev = (w.op(OP.EMPTY_DICT), w.put());
  if (withTensor) w.str('w').tensor('0', [4]).op(OP.SETITEM);
  w.op(OP.POP);
  for (let i = 1; i <= levels; i++) {
    w.op(OP.EMPTY_DICT);
    const d = w.put();
    w.op(OP.MARK).str('a').get(prev).str('b').get(prev).op(OP.SETITEMS);
    if (i < levels) w.op(OP.POP);
    prev = d;
  }
  const storages = withTensor ? [{ name: '0', data: F32_ZEROS(4) }] : [];
  return { name: `dag-${levels}${withTensor ? '-with-tensor' : ''}.bin`, bytes: torchZip(w.finish(), storages) };
}

/** `count` repetitions of one opcode sequence in a deflated data.pkl (declared size honest unless given). */
export function opcodeFlood(name: string, unit: number[], count: number, declaredSize?: number): HostileFile {
  const head = new Uint8Array([OP.PROTO, 2, OP.EMPTY_LIST]);
  const tail = new Uint8Array([OP.STOP]);
  // One MiB-ish block of units, repeated: compressing it once keeps generation instant.
  const perBlock = Math.max(1, Math.floor(2 ** 20 / unit.length));
  const block = new Uint8Array(perBlock * unit.length);
  for (let i = 0; i < block.length; i++) block[i] = unit[i % unit.length];
  const blocks = Math.ceil(count / perBlock);
  const size = head.length + blocks * block.length + tail.length;
  const compressed = repeatedDeflate(head, block, blocks, tail);
  return { name, bytes: torchZip({ name: '', compressed, size: declaredSize ?? size }) };
}

/** 150 M EMPTY_LIST opcodes: 130 KB on disk, ran the heap out of memory. */
export function emptyListFlood(count = 150_000_000): HostileFile {
  return opcodeFlood(`empty-list-flood-${count}.bin`, [OP.EMPTY_LIST], count);
}

/** A real one-tensor checkpoint whose storage declares 64 bytes but inflates to `inflated` bytes of zeros. */
export function zipBomb(inflated = 2 ** 31, declaredSize = 64): HostileFile {
  const unit = new Uint8Array(64 * 2 ** 20);
  const compressed = repeatedDeflate(new Uint8Array(0), unit, Math.ceil(inflated / unit.length), new Uint8Array(0));
  return {
    name: `zip-bomb-declared-${declaredSize}.bin`,
    bytes: torchZip(oneTensorPickle(), [{ name: '0', compressed, size: declaredSize }]),
  };
}

/** data.pkl is one LONG4 integer of `bytes` bytes (decoding it byte by byte took 26 s). */
export function hugeLong(bytes = 200_000, withTensor = false): HostileFile {
  const w = new PickleWriter();
  const payload = new Uint8Array(bytes).fill(0x5a);
  if (withTensor) {
    w.op(OP.EMPTY_DICT).put();
    w.str('big');
  }
  w.op(OP.LONG4).u32(bytes).raw(payload);
  if (withTensor) w.op(OP.SETITEM).str('w').tensor('0', [4]).op(OP.SETITEM);
  const storages = withTensor ? [{ name: '0', data: F32_ZEROS(4) }] : [];
  return { name: `long4-${bytes}${withTensor ? '-with-tensor' : ''}.bin`, bytes: torchZip(w.finish(), storages) };
}

/** A safetensors file from a header object and a data section of `dataBytes` bytes. */
export function safetensors(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** Two F32 tensors whose byte ranges overlap ([0, 16) and [8, 24)). */
export function overlappingSafetensors(): HostileFile {
  const header = {
    a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
  };
  return { name: 'overlapping.safetensors', bytes: safetensors(header, 24) };
}

/** Two central-directory entries sharing one local entry (the overlap that multiplies zip bombs). */
export function overlappingZipEntries(): HostileFile {
  const bytes = buildZip([
    { name: 'archive/data.pkl', data: oneTensorPickle() },
    { name: 'archive/data/0', data: F32_ZEROS(4) },
    { name: 'archive/data/1', data: F32_ZEROS(4), aliasOf: 'archive/data/0' },
  ]);
  return { name: 'overlapping-entries.bin', bytes };
}

/** Every hostile file, with the sizes described in hostile.test.ts. */
export function allHostileFiles(): HostileFile[] {
  return [
    selfReferencingDict(),
    sharedDictDag(40),
    emptyListFlood(),
    zipBomb(),
    hugeLong(),
    overlappingSafetensors(),
    overlappingZipEntries(),
  ];
}
