// `cytotune embed` end to end (runEmbed in-process, wasm backend) on the PyTorch parity fixtures.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { herlevDir } from '../../support/paths';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/ml/backend/selectBackend';
import { runEmbed } from '../../../src/cli/commands/embed';
import { formatNpy, parseNpy } from '../../../src/ml/checkpoint/npy';
import { fixturePath, loadNpy, manifest, maxAbsDiff } from '../../support/encoderFixtures';

const dir = mkdtempSync(join(tmpdir(), 'embed-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend();
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runEmbed(argv, { out: (s) => void out.push(s), err: (s) => void err.push(s) });
  return { code, out, err };
}

describe('cytotune embed', () => {
  it('--tensor X.npy --output OUT.npy reproduces PyTorch within 1e-4 for every family (wasm)', async () => {
    const before = tf.memory().numTensors;
    const seen = new Set<string>();
    for (const fx of manifest.fixtures.filter((f) => !seen.has(f.family) && seen.add(f.family))) {
      const outPath = join(dir, `${fx.family}.npy`);
      const r = await run([
        '--checkpoint',
        fixturePath(fx.file),
        '--heads',
        '2',
        '--tensor',
        fixturePath(manifest.input),
        '--output',
        outPath,
        '--batch',
        '1',
      ]);
      expect(r.err.join('\n')).toMatch(/backend wasm/);
      expect(r.code).toBe(0);
      const got = parseNpy(readFileSync(outPath));
      const want = loadNpy(fx.expected);
      expect(got.shape).toEqual(want.shape);
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    }
    expect(seen.size).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('prints JSON rows when no --output is given, and writes JSON to a .json output', async () => {
    const r = await run([
      '--checkpoint',
      fixturePath('openai-clip.torchscript.pt'),
      '--heads',
      '2',
      '--tensor',
      fixturePath(manifest.input),
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out.join(''));
    expect(doc).toMatchObject({ family: 'openai-clip', dim: 8, backend: 'wasm' });
    expect(doc.embeddings).toHaveLength(2);
    expect(maxAbsDiff(doc.embeddings.flat(), loadNpy('openai-clip.expected.npy').data)).toBeLessThan(1e-4);
    const p = join(dir, 'out.json');
    expect(
      (await run(['--checkpoint', fixturePath('hf-vit.bin'), '--heads', '2', '--tensor', fixturePath(manifest.input), '--output', p])).code,
    ).toBe(0);
    expect(JSON.parse(readFileSync(p, 'utf8')).embeddings).toHaveLength(2);
  });

  it('--image decodes, preprocesses and embeds each image (one row per image, PNG and BMP)', async () => {
    const bmpDir = join(herlevDir, 'normal_columnar');
    const { readdirSync } = await import('node:fs');
    const bmp = `${bmpDir}/${readdirSync(bmpDir).find((f) => /\.bmp$/i.test(f))}`;
    const r = await run([
      '--checkpoint',
      fixturePath('timm-vit.safetensors'),
      '--heads',
      '2',
      '--image',
      fixturePath('pre-image.png'),
      bmp,
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out.join(''));
    expect(doc.inputs).toEqual([fixturePath('pre-image.png'), bmp]);
    expect(doc.embeddings.map((e: number[]) => e.length)).toEqual([16, 16]);
    expect(doc.embeddings[0]).not.toEqual(doc.embeddings[1]);
  });

  it('bad input: non-zero exit with a one-line reason', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--tensor', fixturePath(manifest.input)], 2, /--checkpoint is required/],
      [['--checkpoint', fixturePath('hf-vit.bin')], 2, /either --image IMG\.\.\. or --tensor/],
      [['--checkpoint', fixturePath('hf-vit.bin'), '--tensor', 'x.npy', '--output', 'o.csv'], 2, /\.npy or \.json/],
      [['--checkpoint', fixturePath('hf-vit.bin'), '--family', 'resnet', '--tensor', 'x.npy'], 2, /--family must be one of/],
      [
        ['--checkpoint', fixturePath('hf-vit.bin'), '--activation', 'relu', '--tensor', 'x.npy'],
        2,
        /--activation must be gelu or quick_gelu/,
      ],
      [['--checkpoint', fixturePath('hf-vit.bin'), '--tensor'], 2, /--tensor needs a value/],
      [['--checkpoint', join(dir, 'missing.safetensors'), '--tensor', fixturePath(manifest.input)], 1, /not-found: .*file not found/],
      [['--checkpoint', fixturePath('pre-image.png'), '--tensor', fixturePath(manifest.input)], 1, /not-a-checkpoint: .*PNG/],
      [['--checkpoint', fixturePath('hf-vit.bin'), '--heads', '2', '--tensor', join(dir, 'nope.npy')], 1, /nope\.npy: file not found/],
      [['--checkpoint', fixturePath('hf-vit.bin'), '--heads', '2', '--image', join(dir, 'nope.png')], 1, /nope\.png: file not found/],
      [
        ['--checkpoint', fixturePath('hf-vit.bin'), '--heads', '2', '--family', 'openai-clip', '--tensor', fixturePath(manifest.input)],
        1,
        /unknown-family: .*not a openai-clip checkpoint/,
      ],
    ];
    const wrong = join(dir, 'wrong.npy');
    writeFileSync(wrong, formatNpy({ shape: [1, 3, 16, 16], data: new Float32Array(768) }));
    cases.push([
      ['--checkpoint', fixturePath('hf-vit.bin'), '--heads', '2', '--tensor', wrong],
      1,
      /shape \(1, 3, 16, 16\).*needs normalised float32 \(N, 3, 32, 32\)/,
    ]);
    for (const [argv, code, re] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).not.toContain('\n');
      expect(r.err[0]).toMatch(re);
      expect(r.out).toHaveLength(0);
    }
  });

  it('npy round trip', () => {
    const a = { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, 7]) };
    const b = parseNpy(formatNpy(a));
    expect(b.shape).toEqual([2, 3]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });
});
