// --engine onnx-int8 end to end on the tiny parity fixtures: int8Agreement's arithmetic,
// selection and errors, the graph cache keyed by precision, and agreement with the fp32 ONNX engine on 520 real H&E patches
// (32 x 32 crops of the slide tiles in test/fixtures/slides) with LoRA merged and random heads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import type { EncoderConfig } from '../../../../src/ml/models/encoder';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import {
  createInferenceEngine,
  EngineError,
  int8Agreement,
  int8AgreementPassed,
  parseEngineChoice,
  resolveEngine,
  type Int8Agreement,
} from '../../../../src/ml/inference/engine';
import type { InferenceEngine } from '../../../../src/ml/inference/engineTypes';
import type { OnnxEngine } from '../../../../src/ml/inference/onnxEngine';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { fixturePath, manifest, maxAbsDiff } from '../../../support/encoderFixtures';

const dir = mkdtempSync(join(tmpdir(), 'int8-engine-'));
const families = manifest.fixtures.filter((f, i, a) => a.findIndex((g) => g.family === f.family) === i);
const S = manifest.config.imageSize;
const missing = async () => {
  throw Object.assign(new Error("Cannot find package 'onnxruntime-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
};
let tensorsAtStart = 0;
let tiles: { data: Buffer; width: number; height: number }[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsAtStart = tf.memory().numTensors;
  const root = join(import.meta.dirname, '../../../fixtures/slides');
  // The tissue tiles; tile_12_8_11.png is blank background (pixel std ~1), 90 identical patches.
  const files = ['tile_11_1_2.png', 'tile_12_3_5.png', 'tile_8_0_0.png'];
  tiles = await Promise.all(
    files.map(async (f) => {
      const { data, info } = await sharp(join(root, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    }),
  );
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
  rmSync(dir, { recursive: true, force: true });
});

/** S x S crops every S/2 pixels of the slide tiles, normalised for `cfg`: [n, 3, S, S]. */
function slidePatches(cfg: EncoderConfig): { data: Float32Array; n: number } {
  const crops: Float32Array[] = [];
  for (const t of tiles)
    for (let y = 0; y + S <= t.height; y += S / 2)
      for (let x = 0; x + S <= t.width; x += S / 2) {
        const c = new Float32Array(3 * S * S);
        for (let ch = 0; ch < 3; ch++)
          for (let yy = 0; yy < S; yy++)
            for (let xx = 0; xx < S; xx++)
              c[(ch * S + yy) * S + xx] = (t.data[((y + yy) * t.width + x + xx) * 3 + ch] / 255 - cfg.mean[ch]) / cfg.std[ch];
        crops.push(c);
      }
  const data = new Float32Array(crops.length * 3 * S * S);
  crops.forEach((c, i) => data.set(c, i * 3 * S * S));
  return { data, n: crops.length };
}

/** LoRA on q, k, v, o of every block with non-zero B, so the merge really changes the weights. */
function trainedAdapter(enc: VitEncoder, seed: number): LoraAdapter {
  const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({ rank: 2, targets: ['q', 'k', 'v', 'o'] }, enc.config), seed);
  for (const l of adapter.layers.values()) {
    const b = tf.randomNormal<tf.Rank.R2>(l.bT.shape, 0, 0.5, 'float32', seed);
    l.bT.assign(b);
    b.dispose();
  }
  return adapter;
}

describe('int8Agreement', () => {
  const fake = (name: 'onnx' | 'onnx-int8', probs: number[], output: 'probabilities' | 'embeddings' = 'probabilities') =>
    ({
      name,
      detail: name,
      config: { imageSize: 1 },
      output,
      outputSize: 3,
      run: async (_x: Float32Array, n: number) => Float32Array.from(probs.slice(0, n * 3)),
    }) as unknown as InferenceEngine;

  it('counts equal top-1 classes and the largest probability difference over n images', async () => {
    const a = fake('onnx', [0.7, 0.2, 0.1, 0.3, 0.36, 0.34, 0.1, 0.1, 0.8, 0.5, 0.25, 0.25]);
    const b = fake('onnx-int8', [0.69, 0.21, 0.1, 0.3, 0.34, 0.36, 0.1, 0.12, 0.78, 0.5, 0.25, 0.25]);
    const r = await int8Agreement(a, b, new Float32Array(4 * 3)); // 4 images of 3 x 1 x 1
    expect(r.n).toBe(4);
    expect(r.top1Agreement).toBe(0.75); // image 1 flips between classes 1 and 2
    expect(r.maxProbDiff).toBeCloseTo(0.02, 6);
    expect(int8AgreementPassed(r)).toBe(false);
    expect(int8AgreementPassed({ n: 100, top1Agreement: 0.99, maxProbDiff: 0.02 })).toBe(true);
    expect(int8AgreementPassed({ n: 0, top1Agreement: 1, maxProbDiff: 0 })).toBe(false);
    expect((await int8Agreement(a, b, new Float32Array(12), 2)).n).toBe(2);
    await expect(int8Agreement(a, fake('onnx-int8', [], 'embeddings'), new Float32Array(3))).rejects.toThrow(/has no head/);
  });
});

describe('selecting onnx-int8', () => {
  it('parses --engine onnx-int8, resolves it to ONNX Runtime and fails clearly without the package', async () => {
    expect(parseEngineChoice('onnx-int8')).toBe('onnx-int8');
    expect(() => parseEngineChoice('int8')).toThrow(/onnx-int8/);
    expect(await resolveEngine('onnx-int8')).toMatchObject({ engine: 'onnx-int8', reason: 'requested with --engine onnx-int8' });
    expect((await resolveEngine('auto')).engine).toBe('onnx'); // auto never picks int8 by itself
    const err = await resolveEngine('onnx-int8', missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ kind: 'engine-unavailable', message: expect.stringMatching(/^--engine onnx-int8: .*--engine tfjs$/) });
    await expect(
      createInferenceEngine({
        engine: 'onnx-int8',
        checkpoint: fixturePath('timm-vit.safetensors'),
        loadOptions: { heads: 2 },
        importer: missing,
      }),
    ).rejects.toThrow(/--engine onnx-int8/);
  });

  it('keys the graph cache by precision: fp32 and int8 (and each weight range) get their own file, then hits', async () => {
    const cacheDir = join(dir, 'cache');
    const make = (engine: 'onnx' | 'onnx-int8', weightMax = 127) =>
      createInferenceEngine({
        engine,
        checkpoint: fixturePath('timm-vit.safetensors'),
        loadOptions: { heads: 2 },
        cacheDir,
        int8: { weightMax },
      }) as Promise<OnnxEngine>;
    const fp32 = await make('onnx');
    const int8 = await make('onnx-int8');
    const reduced = await make('onnx-int8', 63);
    const again = await make('onnx-int8');
    expect([fp32.name, int8.name, again.name]).toEqual(['onnx', 'onnx-int8', 'onnx-int8']);
    expect(int8.detail).toMatch(/^onnxruntime-node 1\.30\.0 int8 \(cpu provider/);
    expect([fp32.info.cache, int8.info.cache, reduced.info.cache, again.info.cache]).toEqual(['miss', 'miss', 'miss', 'hit']);
    expect(new Set([fp32.info.modelPath, int8.info.modelPath, reduced.info.modelPath]).size).toBe(3);
    expect(again.info.modelPath).toBe(int8.info.modelPath);
    expect(int8.info.modelPath).toMatch(/timm-vit-int8-[0-9a-f]{32}\.onnx$/);
    const x = slidePatches(fp32.config);
    const [a, b, c] = [await fp32.run(x.data, 8), await int8.run(x.data, 8), await again.run(x.data, 8)];
    expect(maxAbsDiff(b, c)).toBe(0);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0); // really another graph
    for (const e of [fp32, int8, reduced, again]) await e.dispose();
  });
});

describe('int8 agrees with fp32 on real slide patches (LoRA merged, random heads)', () => {
  const results: (Int8Agreement & { family: string; classes: number })[] = [];
  afterAll(() => console.log(results.map((r) => `${r.family} C=${r.classes}: ${JSON.stringify(r)}`).join('\n')));

  for (const fx of families) {
    it(`${fx.family}: top-1 agreement and max probability difference over 520 patches, 3 and 10 classes`, async () => {
      const enc = loadEncoder(fixturePath(fx.file), { heads: manifest.config.heads });
      const adapter = trainedAdapter(enc, 7);
      const x = slidePatches(enc.config);
      expect(x.n).toBe(520);
      try {
        for (const classes of [3, 10]) {
          const head = LinearHead.create(enc.config.outputDim, classes, 11);
          const o = { encoder: enc, adapter, head, cacheDir: null };
          const fp32 = await createInferenceEngine({ ...o, engine: 'onnx' });
          const int8 = await createInferenceEngine({ ...o, engine: 'onnx-int8' });
          const r = await int8Agreement(fp32, int8, x.data);
          results.push({ family: fx.family, classes, ...r });
          expect(r.n).toBe(520);
          expect(r.maxProbDiff).toBeLessThanOrEqual(0.02);
          // Per model and head a random head's near-ties allow a few flips; pooled bar below.
          expect(r.top1Agreement).toBeGreaterThanOrEqual(0.98);
          await Promise.all([fp32.dispose(), int8.dispose()]);
          head.dispose();
        }
      } finally {
        adapter.dispose();
        enc.dispose();
      }
    });
  }

  it('pooled over all families and heads: top-1 equal for >= 99 % of the patches', () => {
    expect(results).toHaveLength(2 * families.length);
    const same = results.reduce((a, r) => a + r.top1Agreement * r.n, 0);
    const n = results.reduce((a, r) => a + r.n, 0);
    expect(same / n).toBeGreaterThanOrEqual(0.99);
  });
});
