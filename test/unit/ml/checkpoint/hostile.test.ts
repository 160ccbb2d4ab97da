// Each file here once hung, exhausted or crashed the readers (times and memory before the fix
// in the comments). Now each must end in a one-line CheckpointError within 5 s, growing the
// process by less than 300 MB. The files are built at test time by
// test/support/hostileCheckpoints/hostileFiles.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  emptyListFlood,
  hugeLong,
  overlappingSafetensors,
  overlappingZipEntries,
  selfReferencingDict,
  sharedDictDag,
  zipBomb,
  type HostileFile,
} from '../../../support/hostileCheckpoints/hostileFiles';
import { probe, type Probe } from '../../../support/checkpointProbe';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(f: HostileFile): string {
  const p = join(dir, f.name);
  writeFileSync(p, f.bytes);
  return p;
}

function expectRefused(f: HostileFile, kind: Probe['outcome'], pattern: RegExp): Probe {
  const path = write(f);
  const r = probe(path);
  expect(r.outcome).toBe(kind);
  expect(r.message).toMatch(pattern);
  expect(r.message.startsWith(`${path}: `)).toBe(true);
  expect(r.message).not.toContain('\n');
  expect(r.seconds).toBeLessThan(5);
  expect(r.peakGrowthMB).toBeLessThan(300);
  return r;
}

describe('hostile checkpoint files', () => {
  it('a self-referencing dict (152 bytes; used to hang) is walked once', () => {
    expectRefused(selfReferencingDict(), 'not-a-checkpoint', /holds no tensors/);
  });

  it('a 40-level DAG of shared dicts (2^40 paths; used to hang) is walked once', () => {
    expectRefused(sharedDictDag(40), 'not-a-checkpoint', /holds no tensors/);
    // With a tensor at the bottom it opens, naming the tensor by its first path only.
    const r = probe(write(sharedDictDag(40, true)));
    expect(r.outcome).toBe('ok');
    expect(r.names).toEqual([`${'a.'.repeat(40)}w`]);
    expect(r.seconds).toBeLessThan(5);
  });

  it('150 M EMPTY_LIST opcodes deflated to 150 KB (used to run out of heap) are refused by size', () => {
    expectRefused(emptyListFlood(), 'limit-exceeded', /data\.pkl is 150,\d{3},\d{3} bytes/);
  });

  it('a storage declared 64 bytes that inflates to 2 GiB (used to cost 4.1 GB and 13 s) stops at 64 bytes', () => {
    expectRefused(zipBomb(), 'corrupt', /inflates to more than the 64 bytes it declares/);
  });

  it('one LONG4 integer of 200 KB (used to block for 26 s) decodes in linear time', () => {
    expectRefused(hugeLong(200_000), 'not-a-checkpoint', /holds no tensors/);
    const r = probe(write(hugeLong(200_000, true)));
    expect(r.outcome).toBe('ok');
    expect(r.names).toEqual(['w']);
    expect(r.seconds).toBeLessThan(5);
  });

  it('overlapping safetensors data offsets (used to be accepted) are refused', () => {
    expectRefused(overlappingSafetensors(), 'corrupt', /tensors a and b overlap/);
  });

  it('two zip directory entries sharing one local entry (used to be accepted) are refused', () => {
    expectRefused(overlappingZipEntries(), 'corrupt', /overlap/);
  });
});
