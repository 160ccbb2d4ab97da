// The budgets of limits.ts: real checkpoints fit with wide headroom, and each budget stops the
// file built to exhaust it, with a 'limit-exceeded' error, quickly and in bounded memory.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Budget, DEFAULT_LIMITS, type ReadLimits } from '../../../../src/ml/checkpoint/limits';
import { flatten, unwrap } from '../../../../src/ml/checkpoint/tensorWalk';
import { unpickle } from '../../../../src/ml/checkpoint/unpickle';
import { opcodeFlood, safetensors, zipBomb, type HostileFile } from '../../../support/hostileCheckpoints/hostileFiles';
import { OP } from '../../../support/hostileCheckpoints/pickleWriter';
import { vitHPickle } from '../../../support/hostileCheckpoints/vitH';
import { fixturePath } from '../../../support/encoderFixtures';
import { probe } from '../../../support/checkpointProbe';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(f: HostileFile): string {
  const p = join(dir, f.name);
  writeFileSync(p, f.bytes);
  return p;
}

const storage = (pid: unknown) => {
  const [, , key, , numel] = pid as [string, unknown, string, string, number];
  return { kind: 'storage' as const, storageType: 'FloatStorage', key, location: 'cpu', numel };
};

describe('read limits', () => {
  it('a ViT-H/14 training checkpoint with AdamW state (2,744 tensors) fits in 1/20 of every pickle budget', () => {
    const bytes = vitHPickle(true);
    const tight: Partial<ReadLimits> = {
      maxOpcodes: DEFAULT_LIMITS.maxOpcodes / 20,
      maxObjects: DEFAULT_LIMITS.maxObjects / 20,
      maxItems: DEFAULT_LIMITS.maxItems / 20,
      maxTensors: DEFAULT_LIMITS.maxTensors / 20,
    };
    expect(bytes.length).toBeLessThan(DEFAULT_LIMITS.maxPickleBytes / 20);
    const budget = new Budget('vit-h.pt', tight);
    const root = unpickle(bytes, 'data.pkl', budget, storage);
    expect(flatten(root, budget).size).toBe(2744); // weights and both Adam moments and steps
    expect(flatten(unwrap(root), budget).size).toBe(686); // the state dict
  });

  it('the real fixtures (torch.save and TorchScript, <= 41 tensors) need < 50 opcodes, 30 values and 30 items per tensor', () => {
    const perTensor = (n: number) => n * 41;
    for (const f of ['timm-vit.pth', 'openai-clip.torchscript.pt', 'hf-clip.bin']) {
      const r = probe(fixturePath(f), { maxOpcodes: perTensor(50), maxObjects: perTensor(30), maxItems: perTensor(30) });
      expect([f, r.outcome]).toEqual([f, 'ok']);
    }
  });

  const floods: [string, number[], number, RegExp][] = [
    ['objects', [OP.EMPTY_LIST], 2_100_000, /builds more than 2,000,000 values/],
    ['dicts', [OP.EMPTY_DICT], 600_000, /builds more than 2,000,000 values/],
    ['container slots', [OP.NONE, OP.APPEND], 4_100_000, /holds more than 4,000,000 items/],
    ['stack depth', [0x32 /* DUP */], 4_100_000, /holds more than 4,000,000 items/],
    ['marks', [OP.MARK], 4_100_000, /holds more than 4,000,000 items/],
    ['memo entries', [0x94 /* MEMOIZE */], 4_100_000, /holds more than 4,000,000 items/],
    ['opcodes', [OP.NONE, OP.POP], 5_100_000, /runs more than 10,000,000 opcodes/],
  ];
  for (const [what, unit, count, message] of floods) {
    it(`a pickle that floods ${what} stops at its budget`, () => {
      const r = probe(write(opcodeFlood(`flood-${what.replace(/ /g, '-')}.bin`, unit, count)));
      expect(r.outcome).toBe('limit-exceeded');
      expect(r.message).toMatch(message);
      expect(r.seconds).toBeLessThan(5);
      expect(r.peakGrowthMB).toBeLessThan(300);
    });
  }

  it('strings are built flat: 500 k 60-character names cost ~100 MB, not the ~800 MB of per-character ropes', () => {
    const name = [OP.SHORT_BINUNICODE, 60, ...new Array(60).fill(0x61)];
    const r = probe(write(opcodeFlood('long-strings.bin', [...name, OP.APPEND], 500_000)));
    expect(r.outcome).toBe('not-a-checkpoint');
    expect(r.peakGrowthMB).toBeLessThan(300);
    expect(r.seconds).toBeLessThan(5);
  });

  it('the wall-clock budget stops a slow read', () => {
    const r = probe(fixturePath('timm-vit.pth'), { maxMillis: 0 });
    expect(r.outcome).toBe('limit-exceeded');
    expect(r.message).toMatch(/took longer than 0 s/);
  });

  it('a deflated entry that honestly inflates to 2 GiB exceeds maxInflatedBytes without being inflated', () => {
    const r = probe(write(zipBomb(2 ** 31, 2 ** 31)));
    expect(r.outcome).toBe('limit-exceeded');
    expect(r.message).toMatch(/would inflate to 2,147,483,648 bytes/);
    expect(r.peakGrowthMB).toBeLessThan(300);
  });

  it('zip entry count, tensor count, depth and name length are bounded', () => {
    expect(probe(fixturePath('timm-vit.pth'), { maxZipEntries: 10 }).message).toMatch(/lists 36 entries \(limit 10\)/);
    expect(probe(fixturePath('timm-vit.pth'), { maxTensors: 10 }).message).toMatch(/names more than 10 tensors/);
    // Deeper or longer names are skipped, not refused: they are not weights.
    const all = probe(fixturePath('openai-clip.torchscript.pt')).names;
    const shallow = probe(fixturePath('openai-clip.torchscript.pt'), { maxDepth: 3 });
    expect(shallow.outcome).toBe('ok');
    expect(shallow.names.length).toBeLessThan(all.length);
    expect(shallow.names.every((n) => n.split('.').length <= 3)).toBe(true);
    const short = probe(fixturePath('openai-clip.torchscript.pt'), { maxNameLength: 20 });
    expect(short.names.length).toBeGreaterThan(0);
    expect(short.names.every((n) => n.length <= 20)).toBe(true);
  });

  it('a safetensors header over its size limit, or of millions of tiny JSON objects, is refused before parsing', () => {
    const big = safetensors({ __metadata__: { notes: 'x'.repeat(17 * 2 ** 20) } }, 0);
    const p1 = write({ name: 'big-header.safetensors', bytes: big });
    expect(probe(p1).message).toMatch(/header is 17,825,\d{3} bytes \(limit 16,777,216\)/);
    // 15 MB of {} would cost JSON.parse ~500 MB; counting them first costs nothing.
    const json = `{"x":[${'{},'.repeat(5 * 2 ** 20)}0]}`;
    const bytes = new Uint8Array(8 + json.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(new TextEncoder().encode(json), 8);
    const r = probe(write({ name: 'object-flood.safetensors', bytes }));
    expect(r.outcome).toBe('limit-exceeded');
    expect(r.message).toMatch(/more than 600,016 JSON objects and arrays/);
    expect(r.peakGrowthMB).toBeLessThan(300);
    expect(r.seconds).toBeLessThan(5);
    // Large metadata strings are fine (LoRA trainers store MBs of tag statistics there).
    const meta = safetensors({ __metadata__: { tags: 'y'.repeat(8 * 2 ** 20) }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4);
    expect(probe(write({ name: 'big-metadata.safetensors', bytes: meta })).outcome).toBe('ok');
  });

  it('a pickle larger than maxPickleBytes is refused before it is read', () => {
    const p = join(dir, 'copy.pth');
    copyFileSync(fixturePath('timm-vit.pth'), p);
    expect(probe(p, { maxPickleBytes: 1000 }).message).toMatch(/data\.pkl is 4,055 bytes \(limit 1,000\)/);
  });
});
