// Linear probe: the frozen backbone's features are computed once (through the training
// augmentation once, as the paper, unless probeAugment is off), then only the head is
// trained with the same AdamW for `epochs` epochs, warm-up then a single cosine to minLr.
import * as tf from '@tensorflow/tfjs-core';
import { embedItems, type EmbedOptions } from '../eval/embedItems';
import { microBatchGrads } from './gradients';
import { LinearHead } from '../adapters/linearHead';
import type { TrainInput, TrainOutcome } from './loraTrainer';
import { hashSeed } from '../random';
import { scheduleFor } from './schedule';
import { TrainedModel } from './trainedModel';
import { runTrainingLoop } from './trainingLoop';
import { runFingerprint } from './fingerprint';

export interface LinearProbeInput extends TrainInput {
  /** Features of `items` already computed ([items.length, D], e.g. cached across an experiment grid): not embedded again. */
  features?: Float32Array;
  /** Computes the features instead of tfjs embedItems (an InferenceEngine: trainRun passes ONNX Runtime's). */
  embed?: (paths: string[], o: EmbedOptions) => Promise<Float32Array>;
}

export async function trainLinearProbe(input: LinearProbeInput): Promise<TrainOutcome> {
  const { encoder, items, settings: s } = input;
  const d = encoder.config.outputDim;
  const seeds = s.probeAugment ? items.map((_, i) => hashSeed(s.seed, 'probe-augment', i)) : undefined;
  const totalSteps = s.steps ?? s.epochs * Math.ceil(items.length / s.batchSize);
  if (input.features && input.features.length !== items.length * d)
    throw new Error(`trainLinearProbe: features hold ${input.features.length / d} rows for ${items.length} items`);
  let features: Float32Array;
  try {
    // A run of 0 steps (the initial head only) needs no features.
    features =
      input.features ??
      (totalSteps === 0 ? new Float32Array(0) : null) ??
      (await (input.embed ?? ((paths, o) => embedItems(encoder, undefined, input.batcher, paths, o)))(
        items.map((it) => it.path),
        { batchSize: s.microBatchSize, augmentSeeds: seeds, signal: input.signal, onBatch: input.onFeatures },
      ));
  } catch (err) {
    // Cancelled while extracting features: nothing trained yet, same outcome shape as LoRA.
    if ((err as Error).name !== 'AbortError') throw err;
    input.init?.head?.dispose();
    return {
      status: 'cancelled',
      step: 0,
      lastLoss: NaN,
      losses: [],
      totalSteps,
      model: new TrainedModel(null, LinearHead.create(d, input.numClasses, s.seed)),
    };
  }
  const head = input.init?.head ?? LinearHead.create(d, input.numClasses, s.seed);
  const model = new TrainedModel(null, head);
  try {
    const vars = head.variables();
    const result = await runTrainingLoop(
      vars,
      async (idx, _ids, _step, batchSize) => {
        const rows = new Float32Array(idx.length * d);
        idx.forEach((i, j) => rows.set(features.subarray(i * d, (i + 1) * d), j * d));
        const x = tf.tensor2d(rows, [idx.length, d]);
        try {
          return microBatchGrads(
            vars,
            () => head.apply(x),
            idx.map((i) => items[i].label),
            batchSize,
          );
        } finally {
          x.dispose();
        }
      },
      {
        totalSteps,
        batchSize: s.batchSize,
        microBatchSize: s.batchSize,
        schedule: scheduleFor(totalSteps, s.lr, s.warmupSteps, s.minLr),
        adamw: { beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay },
        seed: s.seed,
        datasetSize: items.length,
        fingerprint: runFingerprint(s, items, {
          config: encoder.config,
          numClasses: input.numClasses,
          probe: true,
          pipeline: input.batcher.pipeline.describe(),
          ...(input.initKey ? { init: input.initKey } : {}),
        }),
        checkpointPath: input.checkpointPath,
        checkpointEvery: s.checkpointEvery,
        resume: input.resume,
      },
      input,
    );
    return { ...result, totalSteps, model };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
