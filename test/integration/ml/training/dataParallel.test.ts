// Data-parallel LoRA training: two real worker processes (tsx + tfjs-wasm each) that load the
// checkpoint file themselves give the same LoRA and head weights as one process, to float
// rounding; failures come back as errors with a kind and leave no process behind.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { randomStateDict, writeSafetensors, type RandomModelSpec } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import { GradientPool, splitShares } from '../../../../src/ml/training/parallel/gradientPool';
import type { EncoderSource } from '../../../../src/ml/training/parallel/protocol';
import type { LabeledItem } from '../../../../src/ml/data/fewShot';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { trainLora, type TrainInput } from '../../../../src/ml/training/loraTrainer';
import type { TrainedModel } from '../../../../src/ml/training/trainedModel';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';
import { resolveSettings, type TrainSettings } from '../../../../src/shared/training';

const SPEC: RandomModelSpec = { family: 'openai-clip', imageSize: 16, patchSize: 8, width: 16, depth: 2, heads: 2, outputDim: 8 };
let dir: string;
let source: EncoderSource;
let enc: VitEncoder;
let items: LabeledItem[];
let batcher: ImageBatcher;

beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'cytotune-par-'));
  const path = join(dir, 'tiny-clip.safetensors');
  writeSafetensors(path, randomStateDict(SPEC, 3));
  source = { kind: 'checkpoint', path, heads: 2 };
  enc = loadEncoder(path, { heads: 2 });
  items = await herlevSubset(['normal_superficiel', 'severe_dysplastic'], 3);
  batcher = new ImageBatcher(pipelineFromOptions({ size: 16, mean: enc.config.mean, std: enc.config.std }));
});
afterAll(() => {
  enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (o: Partial<TrainSettings> = {}) =>
  resolveSettings({
    steps: 3,
    batchSize: 4,
    warmupSteps: 1,
    lr: 1e-2,
    checkpointEvery: 0,
    seed: 5,
    lora: { rank: 2, targets: ['q', 'v', 'o'], dropout: 0.25 },
    ...o,
  });
const input = (s: TrainSettings, extra: Partial<TrainInput> = {}): TrainInput => ({
  encoder: enc,
  items,
  numClasses: 2,
  batcher,
  settings: s,
  source,
  ...extra,
});

function weights(m: TrainedModel): Float32Array[] {
  return [...(m.adapter?.toHostTensors() ?? []), ...m.head.toHostTensors()].map((t) => t.data);
}
function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((x, i) => x.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('data-parallel LoRA training', () => {
  it('2 worker processes (micro-batch 1 each) end within 1e-5 of one process (batch 4 in one pass); no leaks', async () => {
    const before = tf.memory().numTensors;
    const one = await trainLora(input(settings({ processes: 1 })));
    expect(one.execution?.processes).toBe(1);
    const two = await trainLora(input(settings({ processes: 2, microBatchSize: 1 })));
    expect(two.execution).toMatchObject({ processes: 2, microBatchSize: 1 });
    expect(two.step).toBe(3);
    // 6 images in batches of 4: the last step's batch of 2 is split 1 + 1 as well.
    const a = weights(one.model);
    const b = weights(two.model);
    expect(a.some((t, i) => i % 2 === 1 && i < a.length - 2 && t.some((v) => v !== 0))).toBe(true); // B factors trained
    expect(maxDiff(a, b)).toBeLessThan(1e-5);
    two.losses.forEach((l, i) => expect(Math.abs(l - one.losses[i])).toBeLessThan(1e-5));
    one.model.dispose();
    two.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('automatic mode keeps a tiny model in one process (start-up would cost more than it saves)', async () => {
    const r = await trainLora(input(settings({ steps: 1, processes: 0 })));
    expect(r.execution?.processes).toBe(1);
    expect(r.execution?.notes.join(' ')).toMatch(/small model/);
    r.model.dispose();
  });

  it('processes > 1 without a checkpoint path is refused with kind invalid-settings, before any tensor is made', async () => {
    const before = tf.memory().numTensors;
    await expect(trainLora(input(settings({ processes: 2 }), { source: undefined }))).rejects.toMatchObject({ kind: 'invalid-settings' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a worker that cannot load the checkpoint fails the start with the loader's error kind", async () => {
    const bad: EncoderSource = { kind: 'checkpoint', path: join(dir, 'missing.safetensors') };
    const err = await GradientPool.start({
      processes: 2,
      init: {
        source: bad,
        backend: 'wasm',
        lora: { rank: 2, alpha: 1, dropout: 0, targets: ['q'], blocks: [0], scale: 1 },
        numClasses: 2,
        seed: 1,
        fastGradients: true,
        microBatchSize: 1,
      },
    }).catch((e: Error & { kind?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { kind?: string }).kind).toBe('not-found');
  });

  it('a worker killed mid-run fails the step with kind training-worker-failed', async () => {
    const pool = await GradientPool.start({
      processes: 2,
      init: {
        source,
        backend: 'wasm',
        lora: { rank: 2, alpha: 1, dropout: 0, targets: ['q'], blocks: [0], scale: 1 },
        numClasses: 2,
        seed: 1,
        fastGradients: true,
        microBatchSize: 1,
      },
    });
    const pids = pool.pids;
    expect(pids.every(alive)).toBe(true);
    process.kill(pids[1], 'SIGKILL');
    const px = new Float32Array(3 * 16 * 16);
    const params = [new Float32Array(32), new Float32Array(32), new Float32Array(16), new Float32Array(2)];
    await expect(pool.grads(0, 2, params, [px, px], 16, [0, 1], [0, 1])).rejects.toMatchObject({ kind: 'training-worker-failed' });
    await pool.dispose();
    expect(pids.some(alive)).toBe(false);
  });
});

describe('splitShares', () => {
  it('cuts a batch into contiguous, near-equal, non-empty shares', () => {
    expect(splitShares(8, 2)).toEqual([
      [0, 4],
      [4, 8],
    ]);
    expect(splitShares(7, 3)).toEqual([
      [0, 3],
      [3, 5],
      [5, 7],
    ]);
    expect(splitShares(1, 4)).toEqual([[0, 1]]);
  });
});
