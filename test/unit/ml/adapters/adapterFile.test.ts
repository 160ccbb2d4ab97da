import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAdapter, saveAdapter, type AdapterMetadata } from '../../../../src/ml/adapters/adapterFile';
import { sha256File } from '../../../../src/ml/adapters/baseIdentity';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loraHook } from '../../../../src/ml/adapters/loraHook';
import { decodeSafetensors } from '../../../../src/ml/adapters/safetensorsIo';
import { hashSeed, Rng } from '../../../../src/ml/random';
import { useBackend } from '../../../support/tfBackend';
import { createToyEncoder, type ToyEncoder } from '../../../support/toyEncoder';

let enc: ToyEncoder;
let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  enc = createToyEncoder({ width: 16, depth: 2 });
  dir = mkdtempSync(join(tmpdir(), 'cytotune-lora-'));
});
afterAll(() => {
  enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const meta: AdapterMetadata = {
  baseSha256: 'a'.repeat(64),
  family: 'openai-clip',
  width: 16,
  classNames: ['normal', 'abnormal'],
  preprocessing: { size: 8 },
};

describe('adapter files', () => {
  it('round-trips: the loaded adapter gives the same outputs and keeps its metadata', async () => {
    const before = tf.memory().numTensors;
    const spec = resolveLoraSpec({ rank: 3, alpha: 2, targets: ['q', 'o'], blocks: [1] }, enc.config);
    const adapter = LoraAdapter.create(enc.config, spec, 4);
    for (const l of adapter.layers.values()) {
      const rng = new Rng(hashSeed(1, l.block, l.name));
      tf.tidy(() => l.bT.assign(tf.tensor2d(rng.uniformArray(l.bT.size, -0.5, 0.5), l.bT.shape)));
    }
    const path = join(dir, 'adapter.safetensors');
    await saveAdapter(path, adapter, meta);
    // PyTorch layout on disk: A [r, in], B [out, r].
    const onDisk = decodeSafetensors(readFileSync(path));
    expect(onDisk.tensors.get('blocks.1.q.lora_A')!.shape).toEqual([3, 16]);
    expect(onDisk.tensors.get('blocks.1.o.lora_B')!.shape).toEqual([16, 3]);
    expect(onDisk.metadata.targets).toBe('q,o');
    const { adapter: loaded, meta: m } = await loadAdapter(path, meta);
    expect(m.classNames).toEqual(['normal', 'abnormal']);
    expect(loaded.spec).toEqual(spec);
    const x = tf.tensor4d(new Rng(3).uniformArray(2 * 3 * 8 * 8, -1, 1), [2, 3, 8, 8]);
    const a = enc.embed(x, loraHook(adapter));
    const b = enc.embed(x, loraHook(loaded));
    expect([...b.dataSync()]).toEqual([...a.dataSync()]);
    tf.dispose([x, a, b]);
    adapter.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an adapter trained on another base, with kind adapter-base-mismatch', async () => {
    const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({}, enc.config), 1);
    const path = join(dir, 'other.safetensors');
    await saveAdapter(path, adapter, meta);
    adapter.dispose();
    const before = tf.memory().numTensors;
    await expect(loadAdapter(path, { ...meta, baseSha256: 'b'.repeat(64) })).rejects.toMatchObject({
      kind: 'adapter-base-mismatch',
      message: expect.stringMatching(/another base model/),
    });
    await expect(loadAdapter(path, { ...meta, family: 'timm-vit' })).rejects.toMatchObject({ kind: 'adapter-base-mismatch' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses files that are not adapters, or are truncated, each with its own kind', async () => {
    const notAdapter = join(dir, 'junk.safetensors');
    writeFileSync(notAdapter, 'hello world, not safetensors');
    await expect(loadAdapter(notAdapter, meta)).rejects.toMatchObject({ kind: 'weights-file-invalid' });
    await expect(loadAdapter(join(dir, 'missing.safetensors'), meta)).rejects.toMatchObject({ kind: 'weights-file-missing' });
    const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({}, enc.config), 1);
    const good = join(dir, 'good.safetensors');
    await saveAdapter(good, adapter, meta);
    adapter.dispose();
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await expect(loadAdapter(cut, meta)).rejects.toMatchObject({
      kind: 'weights-file-invalid',
      message: expect.stringMatching(/truncated/),
    });
  });

  it('identifies a base checkpoint by the sha256 of its bytes', async () => {
    const p = join(dir, 'base.bin');
    writeFileSync(p, 'abc');
    expect(await sha256File(p)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
