// Batch classification's hot loop (batchClassify.ts) on real parts: cells of a synthetic LBC
// slide read by sharp in preprocessing threads into reused SharedArrayBuffer batch slots, run
// through a real ONNX Runtime engine. Its probabilities must equal those of the simple
// sequential path (ImageBatcher + predictPathsWithEngine: one fresh array per patch and batch)
// on the same cells, with threads or without, whatever the ring size and a partial last batch;
// an unreadable patch fails with its kind and name, and cancelling stops it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticLbcSlide } from '../../../scripts/synthetic-lbc-slide';
import { LinearHead } from '../../../src/ml/adapters/linearHead';
import { ImageBatcher } from '../../../src/ml/data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor, type PipelineOptions } from '../../../src/ml/data/imagePipeline';
import { createInferenceEngine, type InferenceEngine } from '../../../src/ml/inference/engine';
import { predictPathsWithEngine } from '../../../src/ml/inference/enginePaths';
import { selectBackend } from '../../../src/ml/backend/selectBackend';
import { checkpointConfig } from '../../../src/ml/inference/engine';
import type { PatchItem } from '../../../src/shared/jobs';
import { classifyItems, defaultPrepThreads } from '../../../src/ml/inference/batchClassify';
import { shares } from '../../../src/ml/inference/prepPool';
import { cellBox } from '../../../src/ml/inference/classifyTargets';
import { PatchSource } from '../../../src/ml/data/patchSource';
import { herlevDir, tempDir } from '../../support/paths';
import { writeTinyCheckpoint } from '../../support/tinyModel';

let engine: InferenceEngine;
let head: LinearHead;
let pipeline: PipelineOptions;
let items: PatchItem[];
let reference: number[][];

async function classify(o: { threads: number; batchSize: number; slots?: number; signal?: AbortSignal; list?: PatchItem[] }) {
  const list = o.list ?? items;
  const out: number[][] = new Array(list.length);
  const c = engine.outputSize;
  const r = await classifyItems({
    engine,
    pipeline,
    items: list,
    batchSize: o.batchSize,
    threads: o.threads,
    slots: o.slots,
    signal: o.signal,
    onBatch: (start, probs, m) => {
      for (let i = 0; i < m; i++) out[start + i] = Array.from(probs.subarray(i * c, (i + 1) * c));
    },
  });
  return { probabilities: out, threads: r.threads };
}

beforeAll(async () => {
  const dir = tempDir();
  const checkpoint = writeTinyCheckpoint(dir);
  await selectBackend();
  const config = checkpointConfig(checkpoint);
  pipeline = pipelineOptionsFor(config, { augment: false });
  head = LinearHead.create(config.outputDim, 3, 5);
  engine = await createInferenceEngine({ engine: 'onnx', checkpoint, head, cacheDir: null, maxBatch: 32 });
  const slide = await generateSyntheticLbcSlide({ out: join(dir, 'lbc.tiff'), cells: 40, seed: 3, sourceDir: herlevDir, mpp: 0.5 });
  // 48-px squares (resized down to the model's 32) on every planted cell, plus two past the edge.
  const centres = [...slide.cells.map((c) => ({ x: c.x, y: c.y })), { x: 3, y: 4 }, { x: slide.width - 2, y: slide.height - 9 }];
  items = centres.map((c, i) => ({ key: `1:${i}`, path: slide.path, box: cellBox(c, 48) }));

  const source = new PatchSource();
  try {
    const keys = items.map((it) => source.add(it));
    const batcher = new ImageBatcher(pipelineFromOptions(pipeline), 0, source.read);
    const p = await predictPathsWithEngine(engine, batcher, keys, { batchSize: 8 });
    reference = Array.from({ length: items.length }, (_, i) => Array.from(p.probabilities.subarray(i * 3, (i + 1) * 3)));
  } finally {
    await source.close();
  }
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  head?.dispose();
});

describe('classifyItems', () => {
  it('threads, reused slots and a partial last batch: the same probabilities as the sequential path', async () => {
    expect(items.length % 8).not.toBe(0);
    const r = await classify({ threads: 2, batchSize: 8 });
    expect(r.threads).toBe(2);
    expect(r.probabilities).toEqual(reference);
  }, 60_000);

  it.each([
    { threads: 0, slots: 2 },
    { threads: 1, slots: 3 },
    { threads: 3, slots: 2 },
  ])(
    '$threads thread(s), $slots slots: the same probabilities',
    async ({ threads, slots }) => {
      const r = await classify({ threads, slots, batchSize: 8 });
      expect(r.threads).toBe(threads);
      expect(r.probabilities).toEqual(reference);
    },
    60_000,
  );

  it('an unreadable patch fails the loop with its kind and the item it was', async () => {
    const broken = [...items.slice(0, 10), { key: '1:99', path: join(tempDir(), 'gone.tiff'), box: { x: 0, y: 0, w: 48, h: 48 } }];
    await expect(classify({ threads: 2, batchSize: 4, list: broken })).rejects.toMatchObject({
      kind: 'invalid-input',
      message: expect.stringContaining('item 1:99'),
    });
  }, 60_000);

  it('cancelling stops it with an AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(classify({ threads: 1, batchSize: 8, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  }, 60_000);
});

describe('splitting a batch over the threads', () => {
  it('contiguous shares covering every item once, sizes differing by at most one, none empty', () => {
    expect(shares(8, 3)).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    expect(shares(2, 4)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(shares(0, 2)).toEqual([]);
  });

  it('one preprocessing thread per four cores, at least one, at most four', () => {
    expect([1, 2, 8, 16, 64].map(defaultPrepThreads)).toEqual([1, 1, 2, 4, 4]);
  });
});
