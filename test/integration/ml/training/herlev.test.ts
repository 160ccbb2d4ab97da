// A tiny random CLIP-layout model (through the real loader) fine-tuned with LoRA + head on 20
// real Herlev images (2 classes x 10) until it classifies all of them, on the wasm backend.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateItems } from '../../../../src/ml/eval/evaluate';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import type { LabeledItem } from '../../../../src/ml/data/fewShot';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { trainLora } from '../../../../src/ml/training/loraTrainer';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';
import { resolveSettings } from '../../../../src/shared/training';

let enc: VitEncoder;
let items: LabeledItem[];
let batcher: ImageBatcher;

beforeAll(async () => {
  await useBackend('wasm');
  enc = createRandomEncoder({ family: 'openai-clip', imageSize: 32, patchSize: 8, width: 32, depth: 2, heads: 2, outputDim: 32 }, 11);
  items = await herlevSubset(['normal_superficiel', 'severe_dysplastic'], 10);
  batcher = new ImageBatcher(pipelineFromOptions({ size: 32, mean: enc.config.mean, std: enc.config.std }));
});
afterAll(() => enc.dispose());

describe('LoRA training on real Herlev images', () => {
  it('reaches 100 % training accuracy on 20 images and leaves tf.memory().numTensors unchanged', async () => {
    const before = tf.memory().numTensors;
    const settings = resolveSettings({
      steps: 120,
      batchSize: 10,
      warmupSteps: 10,
      lr: 1e-2,
      seed: 1,
      checkpointEvery: 0,
      lora: { rank: 2, targets: ['q', 'v'] },
    });
    const started = performance.now();
    const out = await trainLora({ encoder: enc, items, numClasses: 2, batcher, settings });
    const seconds = (performance.now() - started) / 1000;
    const m = await evaluateItems(enc, out.model, batcher, items);
    console.log(
      `herlev 20 images: ${out.step} steps in ${seconds.toFixed(1)} s, last loss ${out.lastLoss.toFixed(4)}, train top-1 ${m.top1}, loss ${m.loss?.toFixed(4)}`,
    );
    expect(out.status).toBe('completed');
    expect(m.count).toBe(20);
    expect(m.top1).toBe(1);
    expect(m.confusion).toEqual([
      [10, 0],
      [0, 10],
    ]);
    out.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint and resume on real Herlev images', () => {
  it('a run killed after a periodic checkpoint and resumed ends bit-identical to an uninterrupted run', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'cytotune-resume-'));
    const before = tf.memory().numTensors;
    // Micro-batches of 4 (accumulated to 10) and dropout on, so everything seeded is exercised.
    const settings = resolveSettings({
      steps: 40,
      batchSize: 10,
      microBatchSize: 4,
      warmupSteps: 5,
      lr: 1e-2,
      seed: 7,
      checkpointEvery: 10,
      lora: { rank: 4, targets: ['q', 'k', 'v', 'o'] },
    });
    const base = { encoder: enc, items, numClasses: 2, batcher, settings };
    const whole = await trainLora(base);
    const ckpt = join(dir, 'run.ckpt');
    const beforeCrash = tf.memory().numTensors;
    // Simulate a crash at step 25 (an exception, so no checkpoint is written on the way out):
    // the last periodic checkpoint is the one of step 20, and the resumed run replays 21..40.
    await expect(
      trainLora({
        ...base,
        checkpointPath: ckpt,
        onProgress: (p) => {
          if (p.step === 25) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(tf.memory().numTensors).toBe(beforeCrash); // nothing leaks on the error path either
    const resumed = await trainLora({ ...base, checkpointPath: ckpt, resume: true });
    expect(resumed.step).toBe(40);
    expect(resumed.losses.length).toBe(20);
    const a = [...whole.model.adapter!.toHostTensors(), ...whole.model.head.toHostTensors()];
    const b = [...resumed.model.adapter!.toHostTensors(), ...resumed.model.head.toHostTensors()];
    a.forEach((t, i) => expect(Buffer.from(b[i].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true));
    whole.model.dispose();
    resumed.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    rmSync(dir, { recursive: true, force: true });
  });
});
