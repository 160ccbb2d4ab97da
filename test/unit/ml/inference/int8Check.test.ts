// The stored int8 check and `auto`'s choice on it, with real tiny graphs (the timm-vit parity
// fixture, a random head) on real Herlev images: measured against the fp32 engine's
// probabilities, the check passes for the int8 graph the CPU runs and fails for a graph whose
// weights keep 3 codes; auto classifies with int8 only after a passing check of the same graph.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { createInferenceEngine } from '../../../../src/ml/inference/engine';
import type { EngineOptions } from '../../../../src/ml/inference/engineTypes';
import { predictPathsWithEngine } from '../../../../src/ml/inference/enginePaths';
import { classificationEngine, int8GraphId, measureInt8Check } from '../../../../src/ml/inference/int8Check';
import { checkpointConfig } from '../../../../src/ml/onnx/checkpointConfig';
import { EXPORT_VERSION } from '../../../../src/ml/onnx/exportVit';
import { defaultInt8Options } from '../../../../src/ml/onnx/quantize';
import { describeInt8Check, int8Decision, type Int8Check } from '../../../../src/shared/int8Check';
import { fixturePath, manifest } from '../../../support/encoderFixtures';
import { herlevSubset } from '../../../support/herlevData';

const dir = mkdtempSync(join(tmpdir(), 'int8-check-'));
let head: LinearHead;
let base: Omit<EngineOptions, 'engine'>;
let batcher: ImageBatcher;
let paths: string[];
let fp32: Float32Array;
let tensorsAtStart = 0;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsAtStart = tf.memory().numTensors;
  const checkpoint = fixturePath('timm-vit.safetensors');
  const cfg = checkpointConfig(checkpoint, { heads: manifest.config.heads });
  head = LinearHead.create(cfg.outputDim, 3, 5);
  base = { checkpoint, loadOptions: { heads: manifest.config.heads }, head, cacheDir: join(dir, 'cache'), int8: defaultInt8Options() };
  batcher = new ImageBatcher(pipelineFromOptions({ size: cfg.imageSize, mean: cfg.mean, std: cfg.std }));
  paths = (await herlevSubset(['normal_superficiel', 'severe_dysplastic', 'light_dysplastic'], 10)).map((it) => it.path);
  const e = await createInferenceEngine({ ...base, engine: 'onnx' });
  fp32 = (await predictPathsWithEngine(e, batcher, paths)).probabilities;
  await e.dispose();
});
afterAll(() => {
  head.dispose();
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
  rmSync(dir, { recursive: true, force: true });
});

const stored = (over: Partial<Int8Check>): Int8Check => ({
  n: 240,
  top1Agreement: 0.998,
  maxProbDiff: 0.004,
  bar: { minTop1Agreement: 0.99, maxProbDiff: 0.02 },
  passed: true,
  graph: { exporter: EXPORT_VERSION, weightMax: 127 },
  measuredAt: '2026-12-04T00:00:00.000Z',
  ...over,
});

describe('int8Decision (the stored check -> int8 or not, and why)', () => {
  const here = { exporter: EXPORT_VERSION, weightMax: 127 };
  it('int8 only for a passing check of the same int8 graph, judged by the one bar', () => {
    expect(describeInt8Check(stored({}))).toBe(
      'int8: 99.8 % agreement with full precision on 240 labelled cells (largest probability difference 0.004)',
    );
    expect(int8Decision(stored({}), here)).toEqual({
      useInt8: true,
      reason: expect.stringMatching(/^int8: the stored check passed, 99\.8 % agreement with full precision on 240 labelled cells/),
    });
    expect(int8Decision(null, here)).toEqual({ useInt8: false, reason: 'full precision: this run has no stored int8 agreement check' });
    expect(int8Decision(stored({ top1Agreement: 0.985 }), here)).toMatchObject({
      useInt8: false,
      reason: /did not pass, 98\.5 %.*needs >= 99\.0 %/,
    });
    expect(int8Decision(stored({ maxProbDiff: 0.03 }), here).useInt8).toBe(false);
    // A check stored with a laxer bar (or passed: true) is still judged by the one bar.
    expect(int8Decision(stored({ top1Agreement: 0.9, bar: { minTop1Agreement: 0.5, maxProbDiff: 1 } }), here).useInt8).toBe(false);
    expect(int8Decision(stored({}), { ...here, weightMax: 63 })).toMatchObject({ useInt8: false, reason: /another int8 graph/ });
    expect(int8Decision(stored({}), { ...here, exporter: EXPORT_VERSION + 1 }).useInt8).toBe(false);
    // Another recipe (block 0 float32 or not) is another graph too.
    expect(int8Decision(stored({}), { ...here, float32Blocks: [0] })).toMatchObject({ useInt8: false, reason: /float32 blocks 0/ });
    expect(int8Decision(stored({ graph: { ...here, float32Blocks: [0] } }), { ...here, float32Blocks: [0] }).useInt8).toBe(true);
  });
});

describe('the check measured on a real tiny graph, and auto choosing on it', () => {
  it('passes for the CPU int8 graph: auto then classifies with onnx-int8 and says why', async () => {
    const check = await measureInt8Check(base, batcher, paths, fp32);
    expect(check).toMatchObject({ n: 30, graph: int8GraphId(), bar: { minTop1Agreement: 0.99, maxProbDiff: 0.02 } });
    expect(check.graph).toMatchObject({ exporter: EXPORT_VERSION, float32Blocks: [0] }); // the recipe is part of the graph's identity
    expect(check.top1Agreement).toBe(1);
    expect(check.maxProbDiff).toBeGreaterThan(0); // really the int8 graph
    expect(check.maxProbDiff).toBeLessThanOrEqual(0.02);
    expect(check.passed).toBe(true);
    const { engine, reason } = await classificationEngine({ ...base, engine: 'auto' }, check);
    expect(engine.name).toBe('onnx-int8');
    expect(reason).toMatch(/^int8: the stored check passed, 100\.0 % agreement with full precision on 30 labelled cells/);
    const p = await predictPathsWithEngine(engine, batcher, paths);
    await engine.dispose();
    // The run's int8 classification is the one the check measured.
    expect(Math.max(...p.probabilities.map((v, i) => Math.abs(v - fp32[i])))).toBeCloseTo(check.maxProbDiff, 6);
    // Forced engines are taken as they are, whatever the check says.
    const forced = await classificationEngine({ ...base, engine: 'onnx' }, check);
    expect([forced.engine.name, forced.reason]).toEqual(['onnx', 'requested with --engine onnx']);
    await forced.engine.dispose();
  });

  it('fails for a 3-code weight graph: auto then classifies in full precision and says why', async () => {
    const coarse = { ...base, int8: { ...defaultInt8Options(), weightMax: 1 } };
    const check = await measureInt8Check(coarse, batcher, paths, fp32);
    expect(check.passed).toBe(false);
    expect(check.maxProbDiff).toBeGreaterThan(0.02);
    const { engine, reason } = await classificationEngine({ ...coarse, engine: 'auto' }, check);
    expect(engine.name).toBe('onnx');
    expect(reason).toMatch(/^full precision: the stored int8 check did not pass, \d+\.\d % agreement/);
    await engine.dispose();
    // And without any stored check.
    const none = await classificationEngine({ ...base, engine: 'auto' }, null);
    expect([none.engine.name, none.reason]).toEqual(['onnx', 'full precision: this run has no stored int8 agreement check']);
    await none.engine.dispose();
  });
});
