import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import type { LabeledItem } from '../../../../src/ml/data/fewShot';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { trainLinearProbe } from '../../../../src/ml/training/linearProbe';
import { trainLora, type TrainInput } from '../../../../src/ml/training/loraTrainer';
import type { TrainedModel } from '../../../../src/ml/training/trainedModel';
import type { TrainProgress } from '../../../../src/ml/training/trainingLoop';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';
import { resolveSettings, type TrainSettings } from '../../../../src/shared/training';

let enc: VitEncoder;
let items: LabeledItem[];
let batcher: ImageBatcher;
let dir: string;

beforeAll(async () => {
  await useBackend('wasm');
  enc = createRandomEncoder({ family: 'openai-clip', imageSize: 16, patchSize: 8, width: 16, depth: 2, heads: 2, outputDim: 8 }, 3);
  items = await herlevSubset(['normal_superficiel', 'severe_dysplastic'], 3);
  batcher = new ImageBatcher(pipelineFromOptions({ size: 16, mean: enc.config.mean, std: enc.config.std }));
  dir = mkdtempSync(join(tmpdir(), 'cytotune-train-'));
});
afterAll(() => {
  enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (o: Partial<TrainSettings> = {}) =>
  resolveSettings({
    steps: 6,
    batchSize: 4,
    warmupSteps: 2,
    lr: 1e-2,
    checkpointEvery: 0,
    seed: 5,
    lora: { rank: 2, targets: ['q', 'v', 'o'] },
    ...o,
  });
const input = (s: TrainSettings, extra: Partial<TrainInput> = {}): TrainInput => ({
  encoder: enc,
  items,
  numClasses: 2,
  batcher,
  settings: s,
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

describe('training loop', () => {
  it('runs the scheduled steps, reports progress, changes the weights and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const progress: TrainProgress[] = [];
    const out = await trainLora(input(settings(), { onProgress: (p) => progress.push(p) }));
    expect(out.status).toBe('completed');
    expect(out.step).toBe(6);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress[0].lr).toBeCloseTo(1e-2 / 2, 12);
    expect(progress[5].lr).toBeCloseTo(1e-6, 12);
    expect(progress.every((p) => p.imagesPerSecond > 0 && Number.isFinite(p.loss) && p.etaSeconds >= 0)).toBe(true);
    expect(progress[0].epoch).toBe(0);
    expect(progress[1].epoch).toBe(0); // 6 images, batch 4: batches of 4 and 2 per epoch
    expect(progress[2].epoch).toBe(1);
    const w = weights(out.model);
    expect(w.some((t, i) => i % 2 === 1 && i < w.length - 2 && t.some((v) => v !== 0))).toBe(true); // some B moved off zero
    out.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradient accumulation over micro-batches of 1 gives the full-batch result to 1e-5', async () => {
    const full = await trainLora(input(settings({ steps: 3 })));
    const micro = await trainLora(input(settings({ steps: 3, microBatchSize: 1 })));
    expect(maxDiff(weights(full.model), weights(micro.model))).toBeLessThan(1e-5);
    full.model.dispose();
    micro.model.dispose();
  });

  it('a run cancelled at step 3 and resumed ends bit-identical to an uninterrupted run', async () => {
    const before = tf.memory().numTensors;
    const ckpt = join(dir, 'resume.ckpt.safetensors');
    const whole = await trainLora(input(settings()));
    const ctrl = new AbortController();
    const first = await trainLora(
      input(settings(), { checkpointPath: ckpt, signal: ctrl.signal, onProgress: (p) => p.step === 3 && ctrl.abort() }),
    );
    expect(first.status).toBe('cancelled');
    expect(first.step).toBe(3);
    expect(existsSync(ckpt)).toBe(true);
    first.model.dispose();
    const resumed = await trainLora(input(settings(), { checkpointPath: ckpt, resume: true }));
    expect(resumed.status).toBe('completed');
    expect(resumed.step).toBe(6);
    expect(resumed.losses.length).toBe(3);
    expect(maxDiff(weights(whole.model), weights(resumed.model))).toBe(0);
    expect(resumed.lastLoss).toBe(whole.lastLoss);
    whole.model.dispose();
    resumed.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to resume a checkpoint of a run with other settings (kind checkpoint-mismatch)', async () => {
    const ckpt = join(dir, 'other.ckpt.safetensors');
    const ctrl = new AbortController();
    ctrl.abort();
    const r = await trainLora(input(settings(), { checkpointPath: ckpt, signal: ctrl.signal }));
    expect(r.status).toBe('cancelled');
    r.model.dispose();
    const before = tf.memory().numTensors;
    await expect(trainLora(input(settings({ lr: 3e-3 }), { checkpointPath: ckpt, resume: true }))).rejects.toMatchObject({
      kind: 'checkpoint-mismatch',
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('linear probe: trains only the head on cached features; resumes like LoRA', async () => {
    const before = tf.memory().numTensors;
    const s = settings({ method: 'linear', steps: null, epochs: 4 });
    const whole = await trainLinearProbe(input(s));
    expect(whole.model.adapter).toBeNull();
    expect(whole.step).toBe(4 * 2);
    const ckpt = join(dir, 'probe.ckpt.safetensors');
    const ctrl = new AbortController();
    const first = await trainLinearProbe(
      input(s, { checkpointPath: ckpt, signal: ctrl.signal, onProgress: (p) => p.step === 5 && ctrl.abort() }),
    );
    first.model.dispose();
    const resumed = await trainLinearProbe(input(s, { checkpointPath: ckpt, resume: true }));
    expect(maxDiff(weights(whole.model), weights(resumed.model))).toBe(0);
    whole.model.dispose();
    resumed.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
