// Engine selection (auto/tfjs/onnx, the fallback when onnxruntime-node is missing), the on-disk
// graph cache, engines built from checkpoint files, batch classification through an engine and
// `cytotune embed --engine`. "Missing package" cases replace the module loader (the package
// cannot be uninstalled inside a test run); everything else runs the real onnxruntime-node.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbed } from '../../../../src/cli/commands/embed';
import { predictPaths } from '../../../../src/ml/eval/evaluate';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { parseNpy } from '../../../../src/ml/checkpoint/npy';
import { createInferenceEngine, EngineError, parseEngineChoice, resolveEngine } from '../../../../src/ml/inference/engine';
import { predictPathsWithEngine, predictWithEngine } from '../../../../src/ml/inference/enginePaths';
import type { OnnxEngine } from '../../../../src/ml/inference/onnxEngine';
import { pruneCache } from '../../../../src/ml/onnx/modelCache';
import { installedProviders, loadOnnxRuntime, openSession, type OrtModule } from '../../../../src/ml/inference/ortRuntime';
import { buildVitModel } from '../../../../src/ml/onnx/exportVit';
import { hostWeightsOf } from '../../../../src/ml/onnx/hostWeights';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { TrainedModel } from '../../../../src/ml/training/trainedModel';
import { fixturePath, loadNpy, manifest, maxAbsDiff } from '../../../support/encoderFixtures';
import { herlevDir } from '../../../support/paths';

const dir = mkdtempSync(join(tmpdir(), 'onnx-engine-'));
const ckpt = fixturePath('timm-vit.safetensors');
const input = loadNpy(manifest.input);
const missing = async () => {
  throw Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from engine.ts"), { code: 'ERR_MODULE_NOT_FOUND' });
};
let tensorsAtStart = 0;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsAtStart = tf.memory().numTensors;
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
  rmSync(dir, { recursive: true, force: true });
});

function adapterWithB(seed: number): LoraAdapter {
  const adapter = LoraAdapter.create({ width: 16 }, resolveLoraSpec({ rank: 2 }, { depth: 2 }), seed);
  for (const l of adapter.layers.values()) {
    const b = tf.randomNormal<tf.Rank.R2>(l.bT.shape, 0, 0.5, 'float32', seed);
    l.bT.assign(b);
    b.dispose();
  }
  return adapter;
}

describe('engine selection', () => {
  it('auto picks onnx when onnxruntime-node loads, tfjs when it is missing (loader replaced); onnx when missing is a clear error', async () => {
    expect((await resolveEngine('auto')).engine).toBe('onnx');
    expect((await resolveEngine('tfjs')).engine).toBe('tfjs');
    const fallback = await resolveEngine('auto', missing);
    expect(fallback).toMatchObject({ engine: 'tfjs', reason: expect.stringMatching(/onnxruntime-node is not installed/) });
    const err = await resolveEngine('onnx', missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({
      kind: 'engine-unavailable',
      message: expect.stringMatching(/npm install -E onnxruntime-node@1\.30\.0.*--engine tfjs/),
    });
    const broken = await resolveEngine('auto', async () => ({ something: 1 }));
    expect(broken).toMatchObject({ engine: 'tfjs', reason: expect.stringMatching(/no InferenceSession/) });
    expect(parseEngineChoice(undefined)).toBe('auto');
    expect(() => parseEngineChoice('gpu')).toThrow(/auto, tfjs or onnx/);
  });

  it('tfjs and onnx engines built from a checkpoint file agree to 1e-4 (auto falls back to tfjs when the package is missing)', async () => {
    const onnx = await createInferenceEngine({ engine: 'onnx', checkpoint: ckpt, loadOptions: { heads: 2 }, cacheDir: null });
    const tfjs = await createInferenceEngine({ engine: 'tfjs', checkpoint: ckpt, loadOptions: { heads: 2 } });
    const auto = await createInferenceEngine({ checkpoint: ckpt, loadOptions: { heads: 2 }, importer: missing });
    expect([onnx.name, tfjs.name, auto.name]).toEqual(['onnx', 'tfjs', 'tfjs']);
    expect(onnx.detail).toMatch(/onnxruntime-node 1\.30\.0 \(cpu provider, \d+ threads?, graph cache off\)/);
    expect(auto.detail).toMatch(/tfjs cpu \(onnxruntime-node is not installed/);
    const [a, b, c] = [await onnx.run(input.data, 2), await tfjs.run(input.data, 2), await auto.run(input.data, 2)];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(maxAbsDiff(b, c)).toBe(0);
    expect(maxAbsDiff(a, loadNpy('timm-vit.expected.npy').data)).toBeLessThan(1e-4);
    await Promise.all([onnx.dispose(), tfjs.dispose(), auto.dispose()]);
  });
});

describe('execution providers', () => {
  it('lists only providers the installed package really has, and falls back to CPU when an accelerator fails to start', async () => {
    const loaded = await loadOnnxRuntime();
    if (!loaded.ok) throw new Error(loaded.reason);
    const ort = loaded.ort;
    // This machine: the offline install skipped the CUDA provider libraries; no DirectML/CoreML on Linux.
    expect(installedProviders(ort)).toEqual(['cpu']);
    const fake = {
      ...ort,
      listSupportedBackends: () => [
        { name: 'cpu', bundled: true },
        { name: 'dml', bundled: true },
        { name: 'cuda', bundled: false },
      ],
    } as OrtModule;
    expect(installedProviders(fake)).toEqual(process.platform === 'win32' ? ['dml', 'cpu'] : ['cpu']);
    const enc = loadEncoder(ckpt, { heads: 2 });
    try {
      const bytes = buildVitModel(enc.config, hostWeightsOf(enc)).toBytes();
      const chosen = await openSession(ort, bytes, { providers: ['cuda'], threads: 1 });
      expect(chosen.provider).toBe('cpu');
      expect(chosen.fallback).toMatch(/^cuda: /);
      const r = await chosen.session.run({ pixel_values: new ort.Tensor('float32', input.data, [2, 3, 32, 32]) });
      expect(maxAbsDiff(r.embeddings.data as Float32Array, loadNpy('timm-vit.expected.npy').data)).toBeLessThan(1e-4);
      await chosen.session.release();
    } finally {
      enc.dispose();
    }
  });
});

describe('graph cache', () => {
  it('a second engine for the same checkpoint/adapter/head reuses the file; a new adapter gets its own; a damaged file is rebuilt', async () => {
    const cacheDir = join(dir, 'cache');
    const make = (o: Partial<Parameters<typeof createInferenceEngine>[0]> = {}) =>
      createInferenceEngine({ engine: 'onnx', checkpoint: ckpt, loadOptions: { heads: 2 }, cacheDir, ...o }) as Promise<OnnxEngine>;
    const first = await make();
    expect(first.info.cache).toBe('miss');
    const file = first.info.modelPath!;
    const bytes = readFileSync(file);
    const ino = statSync(file).ino;
    const second = await make();
    expect(second.info).toMatchObject({ cache: 'hit', modelPath: file, exportSeconds: 0 });
    expect(statSync(file).ino).toBe(ino); // not rewritten
    expect(maxAbsDiff(await first.run(input.data, 2), await second.run(input.data, 2))).toBe(0);

    const a1 = adapterWithB(1);
    const a2 = adapterWithB(2);
    const head = LinearHead.create(16, 4, 3);
    const withA1 = await make({ adapter: a1 });
    const withA2 = await make({ adapter: a2 });
    const withHead = await make({ adapter: a1, head });
    const again = await make({ adapter: a1, head });
    const paths = [file, withA1.info.modelPath, withA2.info.modelPath, withHead.info.modelPath];
    expect(new Set(paths).size).toBe(4);
    expect([withA1.info.cache, withA2.info.cache, withHead.info.cache, again.info.cache]).toEqual(['miss', 'miss', 'miss', 'hit']);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.onnx'))).toHaveLength(4);
    expect(maxAbsDiff(await withA1.run(input.data, 2), await withA2.run(input.data, 2))).toBeGreaterThan(1e-3);

    truncateSync(file, 1000);
    const rebuilt = await make();
    expect(rebuilt.info.cache).toBe('miss');
    expect(readFileSync(file).equals(bytes)).toBe(true);
    for (const e of [first, second, withA1, withA2, withHead, again, rebuilt]) await e.dispose();
    a1.dispose();
    a2.dispose();
    head.dispose();
  });

  it('an unwritable cache folder runs from memory; pruning removes least recently used graphs first', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const e = (await createInferenceEngine({
      engine: 'onnx',
      checkpoint: ckpt,
      loadOptions: { heads: 2 },
      cacheDir: join(blocker, 'cache'),
    })) as OnnxEngine;
    expect(e.info.cache).toBe('off');
    expect(maxAbsDiff(await e.run(input.data, 2), loadNpy('timm-vit.expected.npy').data)).toBeLessThan(1e-4);
    await e.dispose();

    const p = join(dir, 'prune');
    const { mkdirSync, utimesSync } = await import('node:fs');
    mkdirSync(p);
    ['a', 'b', 'c'].forEach((n, i) => {
      writeFileSync(join(p, `${n}.onnx`), Buffer.alloc(100));
      utimesSync(join(p, `${n}.onnx`), 1000 + i, 1000 + i);
    });
    expect(pruneCache(p, join(p, 'a.onnx'), 150).map((f) => f.slice(-6))).toEqual(['b.onnx', 'c.onnx']);
    expect(readdirSync(p)).toEqual(['a.onnx']);
  });
});

describe('batch classification through an engine', () => {
  it('predictPathsWithEngine (ONNX, LoRA + head in the graph) equals predictPaths (tfjs) on real Herlev images', async () => {
    const root = herlevDir;
    const paths = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .slice(0, 3)
      .flatMap((d) =>
        readdirSync(join(root, d.name))
          .filter((f) => /\.bmp$/i.test(f))
          .slice(0, 2)
          .map((f) => join(root, d.name, f)),
      );
    expect(paths).toHaveLength(6);
    const enc = loadEncoder(ckpt, { heads: 2 });
    const model = new TrainedModel(adapterWithB(5), LinearHead.create(16, 3, 5));
    const batcher = new ImageBatcher(pipelineFromOptions({ size: 32, mean: enc.config.mean, std: enc.config.std }));
    try {
      const want = await predictPaths(enc, model, batcher, paths, { batchSize: 4 });
      const engine = await createInferenceEngine({
        engine: 'onnx',
        encoder: enc,
        adapter: model.adapter,
        head: model.head,
        cacheDir: null,
      });
      const got = await predictPathsWithEngine(engine, batcher, paths, { batchSize: 4 });
      await engine.dispose();
      expect(got.numClasses).toBe(3);
      expect(maxAbsDiff(got.probabilities, want.probabilities)).toBeLessThan(1e-4);
      expect(got.predicted).toEqual(want.predicted);
      // The one-call form `cytotune predict` uses, from the checkpoint file, with either engine.
      for (const engine of ['onnx', 'tfjs'] as const) {
        const p = await predictWithEngine({
          engine,
          checkpoint: ckpt,
          checkpointSha256: 'test',
          loadOptions: { heads: 2 },
          model,
          batcher,
          paths,
          batchSize: 4,
          cacheDir: join(dir, 'predict-cache'),
        });
        expect(p.engine).toMatch(engine === 'onnx' ? /onnxruntime-node/ : /^tfjs/);
        expect(maxAbsDiff(p.probabilities, want.probabilities)).toBeLessThan(1e-4);
      }
    } finally {
      model.dispose();
      enc.dispose();
    }
  });
});

describe('cytotune embed --engine', () => {
  async function run(argv: string[], importOnnx?: () => Promise<unknown>) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runEmbed(
      argv,
      { out: (s) => void out.push(s), err: (s) => void err.push(s) },
      { importOnnx, onnxCacheDir: join(dir, 'embed-cache') },
    );
    return { code, out, err };
  }
  const base = [
    '--checkpoint',
    fixturePath('openai-clip.safetensors'),
    '--heads',
    '2',
    '--backend',
    'cpu',
    '--tensor',
    fixturePath(manifest.input),
  ];

  it('onnx, tfjs and auto give the same embeddings; the JSON names the engine', async () => {
    const docs: Record<string, { engine: string; runtime: string; embeddings: number[][] }> = {};
    for (const engine of ['onnx', 'tfjs', 'auto']) {
      const r = await run([...base, '--engine', engine]);
      expect(r.code, r.err.join('\n')).toBe(0);
      docs[engine] = JSON.parse(r.out.join(''));
    }
    expect(docs.onnx.engine).toBe('onnx');
    expect(docs.tfjs.engine).toBe('tfjs');
    expect(docs.auto.engine).toBe('onnx');
    expect(docs.onnx.runtime).toMatch(/onnxruntime-node/);
    const want = loadNpy('openai-clip.expected.npy').data;
    for (const d of Object.values(docs)) expect(maxAbsDiff(d.embeddings.flat(), want)).toBeLessThan(1e-4);
    const npy = join(dir, 'e.npy');
    const r = await run([...base, '--output', npy]);
    expect(r.err[0]).toMatch(/engine onnx: onnxruntime-node .*graph cache (hit|miss)/);
    expect(maxAbsDiff(parseNpy(readFileSync(npy)).data, want)).toBeLessThan(1e-4);
  });

  it('--engine onnx without onnxruntime-node fails with one clear line; auto then runs tfjs; a bad value is a usage error', async () => {
    const r = await run([...base, '--engine', 'onnx'], missing);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^embed: engine-unavailable: --engine onnx: onnxruntime-node is not installed .*--engine tfjs$/);
    const auto = await run(base, missing);
    expect(auto.code).toBe(0);
    expect(JSON.parse(auto.out.join(''))).toMatchObject({ engine: 'tfjs', runtime: expect.stringMatching(/not installed/) });
    const bad = await run([...base, '--engine', 'gpu']);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/--engine must be auto, tfjs, onnx or onnx-int8 \(got gpu\)/);
  });
});
