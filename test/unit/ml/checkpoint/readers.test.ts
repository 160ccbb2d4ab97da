// Checkpoint readers on real files: the PyTorch-made fixtures, and damaged/foreign copies of them.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, ftruncateSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../../src/ml/checkpoint/errors';
import { openCheckpoint } from '../../../../src/ml/checkpoint/openCheckpoint';
import { fixturePath, maxAbsDiff } from '../../../support/encoderFixtures';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kindOf(path: string): string {
  try {
    const c = openCheckpoint(path);
    // Opening may succeed lazily; reading every tensor must then fail.
    try {
      for (const [name, info] of c.tensors) if (info.dtype.startsWith('F') || info.dtype === 'BF16') c.read(name);
    } finally {
      c.close();
    }
    return 'ok';
  } catch (err) {
    if (err instanceof CheckpointError) {
      expect(err.message.length).toBeGreaterThan(20);
      expect(err.message).toContain(path);
      return err.kind;
    }
    throw err;
  }
}

function writeTmp(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('checkpoint readers', () => {
  it('read the same tensors from safetensors, torch.save zip and TorchScript archives', () => {
    const st = openCheckpoint(fixturePath('openai-clip.safetensors'));
    const bin = openCheckpoint(fixturePath('openai-clip.bin'));
    const ts = openCheckpoint(fixturePath('openai-clip.torchscript.pt'));
    expect([st.format, bin.format, ts.format]).toEqual(['safetensors', 'torch-zip', 'torchscript']);
    expect([...bin.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
    expect([...ts.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
    for (const [name, info] of st.tensors) {
      expect(bin.tensors.get(name)!.shape).toEqual(info.shape);
      expect(maxAbsDiff(bin.read(name), st.read(name))).toBe(0);
      expect(maxAbsDiff(ts.read(name), st.read(name))).toBe(0);
    }
    [st, bin, ts].forEach((c) => c.close());
  });

  it('unwraps {"state_dict": ...} and {"model": ...} and reads strided (non-contiguous) torch tensors', () => {
    const ocl = openCheckpoint(fixturePath('open-clip-timm.bin'));
    expect([...ocl.tensors.keys()].every((k) => k.startsWith('module.'))).toBe(true);
    ocl.close();
    const timm = openCheckpoint(fixturePath('timm-vit.pth'));
    expect(timm.tensors.has('blocks.0.ls1.gamma')).toBe(true);
    timm.close();
    const a = openCheckpoint(fixturePath('hf-clip.bin'));
    const b = openCheckpoint(fixturePath('hf-clip.safetensors'));
    expect(maxAbsDiff(a.read('visual_projection.weight'), b.read('visual_projection.weight'))).toBe(0);
    expect(a.tensors.get('vision_model.embeddings.position_ids')!.dtype).toBe('I64');
    expect(() => a.read('vision_model.embeddings.position_ids')).toThrow(CheckpointError);
    [a, b].forEach((c) => c.close());
  });

  it('converts F16 and BF16 safetensors to float32', () => {
    const f32 = openCheckpoint(fixturePath('timm-vit.safetensors'));
    const f16 = openCheckpoint(fixturePath('timm-vit.fp16.safetensors'));
    expect(f16.tensors.get('pos_embed')!.dtype).toBe('F16');
    expect(maxAbsDiff(f16.read('pos_embed'), f32.read('pos_embed'))).toBeLessThan(2e-3);
    const bf = openCheckpoint(fixturePath('hf-clip.bf16.safetensors'));
    const ref = openCheckpoint(fixturePath('hf-clip.safetensors'));
    expect(bf.tensors.get('vision_model.post_layernorm.weight')!.dtype).toBe('BF16');
    const x = ref.read('vision_model.post_layernorm.weight');
    const y = bf.read('vision_model.post_layernorm.weight');
    expect(maxAbsDiff(x, y)).toBeLessThan(1e-2);
    expect(maxAbsDiff(x, y)).toBeGreaterThan(0); // really rounded
    [f32, f16, bf, ref].forEach((c) => c.close());
  });

  it('reads F16 storages from torch zip files; refuses legacy non-zip torch files with a way out', () => {
    const half = openCheckpoint(fixturePath('hf-vit.fp16.bin'));
    const full = openCheckpoint(fixturePath('hf-vit.bin'));
    expect(half.tensors.get('vit.layernorm.weight')!.dtype).toBe('F16');
    expect(maxAbsDiff(half.read('vit.layernorm.weight'), full.read('vit.layernorm.weight'))).toBeLessThan(2e-3);
    [half, full].forEach((c) => c.close());
    expect(kindOf(fixturePath('legacy-format.pt'))).toBe('unsupported-format');
    expect(() => openCheckpoint(fixturePath('legacy-format.pt'))).toThrow(/legacy.*re-save/);
  });

  it('truncated safetensors and truncated torch zip files give kind "truncated"', () => {
    for (const f of ['timm-vit.safetensors', 'timm-vit.pth', 'openai-clip.torchscript.pt']) {
      const bytes = readFileSync(fixturePath(f));
      for (const frac of [0.5, 0.9])
        expect(kindOf(writeTmp(`cut-${frac}-${f}`, bytes.subarray(0, Math.floor(bytes.length * frac))))).toBe('truncated');
    }
    expect(kindOf(writeTmp('tiny.safetensors', new Uint8Array([1, 2, 3])))).toBe('truncated');
    expect(kindOf(writeTmp('empty.bin', new Uint8Array(0)))).toBe('truncated');
  });

  it('corrupt headers, central directories and pickles give kind "corrupt"', () => {
    const st = new Uint8Array(readFileSync(fixturePath('timm-vit.safetensors')));
    st[12] = 0x00; // inside the JSON header
    expect(kindOf(writeTmp('badjson.safetensors', st))).toBe('corrupt');

    const zip = new Uint8Array(readFileSync(fixturePath('timm-vit.pth')));
    // Damage the central directory signature of the first entry.
    const cd = Buffer.from(zip).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip[cd + 2] = 0x09;
    expect(kindOf(writeTmp('badcd.pth', zip))).toBe('corrupt');

    const pk = new Uint8Array(readFileSync(fixturePath('timm-vit.pth')));
    // Overwrite the pickle body (after the local header of data.pkl) with an unknown opcode.
    const local = Buffer.from(pk).indexOf(Buffer.from('data.pkl'));
    const body = Buffer.from(pk).indexOf(0x80, local); // PROTO opcode starts the pickle
    pk.fill(0xff, body + 2, body + 40);
    expect(kindOf(writeTmp('badpickle.pth', pk))).toBe('corrupt');
  });

  it('foreign files give kind "not-a-checkpoint" and name what they are; missing files "not-found"', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(64).fill(7)]);
    const p = writeTmp('image.safetensors', png);
    expect(kindOf(p)).toBe('not-a-checkpoint');
    expect(() => openCheckpoint(p)).toThrow(/PNG/);
    expect(kindOf(writeTmp('notes.bin', new TextEncoder().encode('hello world, this is not a model at all')))).toBe('not-a-checkpoint');
    copyFileSync(fixturePath('input.npy'), join(dir, 'input.pt'));
    expect(kindOf(join(dir, 'input.pt'))).toBe('not-a-checkpoint');
    expect(kindOf(join(dir, 'does-not-exist.safetensors'))).toBe('not-found');
    expect(kindOf(dir)).toBe('not-a-checkpoint');
  });

  it('reads lazily: a 1 GiB (sparse) safetensors file opens and yields a small tensor without loading the rest', () => {
    const header = JSON.stringify({
      small: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      huge: { dtype: 'F32', shape: [256, 1024, 1024], data_offsets: [16, 16 + 2 ** 30] },
    });
    const p = join(dir, 'huge.safetensors');
    const fd = openSync(p, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    writeSync(fd, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    ftruncateSync(fd, 8 + header.length + 16 + 2 ** 30);
    closeSync(fd);
    const rss0 = process.memoryUsage().rss;
    const c = openCheckpoint(p);
    expect(Array.from(c.read('small'))).toEqual([1, 2, 3, 4]);
    expect(c.tensors.get('huge')!.shape).toEqual([256, 1024, 1024]);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 2 ** 20);
    c.close();
  });
});
