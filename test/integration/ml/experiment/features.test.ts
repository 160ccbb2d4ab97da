// The linear probe's feature cache: written once per checkpoint, read back on the next run,
// recomputed for another checkpoint; and trainLinearProbe given precomputed features trains
// exactly the head it trains when it embeds the images itself.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedItems } from '../../../../src/ml/eval/embedItems';
import { gatherRows, probeFeatures, tfjsEmbedder } from '../../../../src/ml/experiment/featureCache';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import type { LabeledItem } from '../../../../src/ml/data/fewShot';
import { ImageBatcher } from '../../../../src/ml/data/imageBatcher';
import { pipelineFromOptions } from '../../../../src/ml/data/imagePipeline';
import { trainLinearProbe } from '../../../../src/ml/training/linearProbe';
import { herlevSubset } from '../../../support/herlevData';
import { useBackend } from '../../../support/tfBackend';
import { resolveSettings } from '../../../../src/shared/training';

let enc: VitEncoder;
let items: LabeledItem[];
let batcher: ImageBatcher;
const dir = mkdtempSync(join(tmpdir(), 'cytotune-features-'));

beforeAll(async () => {
  await useBackend('wasm');
  enc = createRandomEncoder({ family: 'openai-clip', imageSize: 32, patchSize: 8, width: 32, depth: 1, heads: 2, outputDim: 16 }, 3);
  items = await herlevSubset(['normal_superficiel', 'severe_dysplastic'], 6);
  batcher = new ImageBatcher(pipelineFromOptions({ size: 32, mean: enc.config.mean, std: enc.config.std }));
});
afterAll(() => {
  enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('feature cache', () => {
  it('is written once, read back for the same checkpoint and images, recomputed for another checkpoint', async () => {
    const before = tf.memory().numTensors;
    const paths = {
      train: items.slice(0, 8).map((it) => it.path),
      val: items.slice(8, 10).map((it) => it.path),
      test: items.slice(10).map((it) => it.path),
    };
    const names = {
      train: paths.train.map((p) => p.split('/').slice(-2).join('/')),
      val: paths.val.map((p) => p.split('/').slice(-2).join('/')),
      test: paths.test.map((p) => p.split('/').slice(-2).join('/')),
    };
    const file = join(dir, 'm.safetensors');
    const req = { paths, names, checkpointSha256: 'aa', augmentTrain: true, batchSize: 4 };
    const first = await probeFeatures(tfjsEmbedder(enc, batcher), batcher, file, req);
    expect(first.cached).toBe(false);
    expect(first.features.data.train).toHaveLength(8 * 16);
    const again = await probeFeatures(tfjsEmbedder(enc, batcher), batcher, file, req);
    expect(again.cached).toBe(true);
    expect(Buffer.from(again.features.data.test.buffer).equals(Buffer.from(first.features.data.test.buffer))).toBe(true);
    expect((await probeFeatures(tfjsEmbedder(enc, batcher), batcher, file, { ...req, checkpointSha256: 'bb' })).cached).toBe(false);
    // Validation and test go through the evaluation transform: equal to a plain embedding.
    const evalTest = await embedItems(enc, undefined, batcher, paths.test);
    expect(Array.from(first.features.data.test)).toEqual(Array.from(evalTest));
    // Training features are augmented (one crop and flip per image), so they differ.
    const evalTrain = await embedItems(enc, undefined, batcher, paths.train);
    expect(Array.from(first.features.data.train)).not.toEqual(Array.from(evalTrain));
    expect(Array.from(gatherRows(first.features, 'test', [paths.test[1]]))).toEqual(Array.from(evalTest.subarray(16, 32)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trainLinearProbe with precomputed features trains the same head as when it embeds the images', async () => {
    const before = tf.memory().numTensors;
    const settings = resolveSettings({ method: 'linear', lr: 1e-2, seed: 4, epochs: 5, batchSize: 4, probeAugment: false });
    const base = { encoder: enc, items, numClasses: 2, batcher, settings };
    const own = await trainLinearProbe(base);
    const features = await embedItems(
      enc,
      undefined,
      batcher,
      items.map((it) => it.path),
    );
    const given = await trainLinearProbe({ ...base, features });
    const a = own.model.head.toHostTensors();
    const b = given.model.head.toHostTensors();
    a.forEach((t, i) => expect(Array.from(b[i].data)).toEqual(Array.from(t.data)));
    await expect(trainLinearProbe({ ...base, features: features.subarray(16) })).rejects.toThrow(/features hold/);
    own.model.dispose();
    given.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
