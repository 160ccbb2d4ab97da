// LoRA fine-tuning: adapter + linear head trained end to end through the frozen encoder with
// the paper's protocol (see settings.ts, schedule.ts). Deterministic for a seed: init, batch
// order, augmentation and dropout all derive from (seed, step, position in batch).
import type { Dense, Encoder } from '../model/encoder';
import { hasTransposed } from '../model/frozenDense';
import { BranchDropout } from '../lora/branchDropout';
import { TransposeCache } from '../lora/fastGrad';
import { LoraAdapter } from '../lora/loraAdapter';
import { resolveLoraSpec } from '../lora/loraConfig';
import { loraHook } from '../lora/loraHook';
import type { LabeledItem } from './fewShot';
import { microBatchGrads } from './gradients';
import type { ImageBatcher } from './imageBatcher';
import { LinearHead } from './linearHead';
import { hashSeed } from './random';
import { scheduleFor } from './schedule';
import { loraSteps, runFingerprint, type TrainSettings } from './settings';
import { TrainedModel } from './trainedModel';
import { runTrainingLoop, type LoopHooks, type LoopResult } from './trainingLoop';

export interface TrainInput extends LoopHooks {
  encoder: Encoder;
  items: LabeledItem[];
  numClasses: number;
  batcher: ImageBatcher;
  settings: TrainSettings;
  checkpointPath?: string;
  resume?: boolean;
}

export interface TrainOutcome extends LoopResult {
  totalSteps: number;
  /** Owned by the caller: dispose() it. */
  model: TrainedModel;
}

export async function trainLora(input: TrainInput): Promise<TrainOutcome> {
  const { encoder, items, settings: s } = input;
  const spec = resolveLoraSpec(s.lora, encoder.config);
  const adapter = LoraAdapter.create(encoder.config, spec, s.seed);
  const head = LinearHead.create(encoder.config.outputDim, input.numClasses, s.seed);
  const model = new TrainedModel(adapter, head);
  const fast = s.fastGradients ? new TransposeCache() : undefined;
  const release = s.fastGradients ? prepareForTraining(encoder) : () => {};
  try {
    const vars = [...adapter.variables(), ...head.variables()];
    const dropout = spec.dropout > 0 ? new BranchDropout(spec.dropout, s.seed) : null;
    const hook = loraHook(adapter, dropout, fast);
    const totalSteps = loraSteps(s, items.length);
    const result = await runTrainingLoop(
      vars,
      async (idx, ids, step, batchSize) => {
        const seeds = ids.map((id) => hashSeed(s.seed, 'augment', step, id));
        const x = await input.batcher.load(idx.map((i) => items[i].path), seeds);
        dropout?.setBatch(step, ids);
        try {
          return microBatchGrads(vars, () => head.apply(encoder.embed(x, hook, true)), idx.map((i) => items[i].label), batchSize);
        } finally {
          x.dispose();
        }
      },
      {
        totalSteps,
        batchSize: s.batchSize,
        microBatchSize: s.microBatchSize,
        schedule: scheduleFor(totalSteps, s.lr, s.warmupSteps, s.minLr),
        adamw: { beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay },
        seed: s.seed,
        datasetSize: items.length,
        fingerprint: runFingerprint(s, items, { config: encoder.config, numClasses: input.numClasses, pipeline: input.batcher.pipeline.describe() }),
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
  } finally {
    fast?.dispose();
    release();
  }
}

/** Optional encoder capability (VitEncoder): transposed copies of every frozen block weight
 * so the whole backward (MLP included) uses fast 2-D matMuls. Returns how to undo it; leaves an
 * encoder the caller had already prepared as it was. */
interface TrainingBuffers {
  prepareForTraining(): void;
  releaseTrainingBuffers(): void;
}
function prepareForTraining(encoder: Encoder): () => void {
  const e = encoder as Partial<TrainingBuffers>;
  if (typeof e.prepareForTraining !== 'function' || typeof e.releaseTrainingBuffers !== 'function') return () => {};
  const probe = (encoder as { baseProjection?: (b: number, n: 'q') => Dense }).baseProjection?.(0, 'q');
  if (probe && hasTransposed(probe)) return () => {};
  e.prepareForTraining();
  return () => e.releaseTrainingBuffers!();
}
