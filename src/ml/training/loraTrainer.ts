// LoRA fine-tuning: adapter + linear head trained end to end through the frozen encoder with
// the paper's protocol (see settings.ts, schedule.ts). Deterministic for a seed: init, batch
// order, augmentation and dropout all derive from (seed, step, position in batch).
import * as tf from '@tensorflow/tfjs-core';
import { blasMatMulInfo } from '../backend/blasMatMul';
import type { Dense, Encoder } from '../models/encoder';
import { hasTransposed } from '../models/frozenDense';
import { setAttentionKernel } from '../models/layers';
import { BranchDropout } from '../adapters/branchDropout';
import { TransposeCache } from '../adapters/fastGrad';
import { LoraAdapter } from '../adapters/loraAdapter';
import { resolveLoraSpec } from '../adapters/loraConfig';
import { loraHook } from '../adapters/loraHook';
import { GradientPool, gradWorkerEntry, type WorkerReport } from './parallel/gradientPool';
import { parallelMicroStep } from './parallel/parallelStep';
import { planExecution, type ExecutionPlan } from './parallel/plan';
import type { EncoderSource } from './parallel/protocol';
import type { LabeledItem } from '../data/fewShot';
import { microBatchGrads } from './gradients';
import type { ImageBatcher } from '../data/imageBatcher';
import { LinearHead } from '../adapters/linearHead';
import { hashSeed } from '../random';
import { scheduleFor } from './schedule';
import { TrainedModel } from './trainedModel';
import { runTrainingLoop, type LoopHooks, type LoopResult } from './trainingLoop';
import { loraSteps, type TrainSettings } from '../../shared/training';
import { runFingerprint } from './fingerprint';
import type { InitialState } from './initialState';
import type { BackendName } from '../../shared/jobs';

export interface TrainInput extends LoopHooks {
  encoder: Encoder;
  items: LabeledItem[];
  numClasses: number;
  batcher: ImageBatcher;
  settings: TrainSettings;
  checkpointPath?: string;
  resume?: boolean;
  /** Where `encoder` came from, so gradient worker processes can load it themselves (settings.processes). */
  source?: EncoderSource;
  /** After each data-parallel step: what each worker did (time, peak memory). */
  onWorkers?: (workers: WorkerReport[]) => void;
  /** Start from these instead of the seeded init (initialState.ts); the trainer takes ownership. */
  init?: InitialState;
  /** Identifies `init` (file hashes) in the run's fingerprint, so a resume cannot switch it. */
  initKey?: string;
}

export interface TrainOutcome extends LoopResult {
  totalSteps: number;
  /** Owned by the caller: dispose() it. */
  model: TrainedModel;
  /** LoRA: processes and micro-batch size actually used (parallel/plan.ts), with the reasons. */
  execution?: ExecutionPlan;
}

export async function trainLora(input: TrainInput): Promise<TrainOutcome> {
  const { encoder, items, settings: s } = input;
  const spec = resolveLoraSpec(s.lora, encoder.config);
  const execution = planExecution({
    config: encoder.config,
    backend: tf.getBackend(),
    batchSize: s.batchSize,
    microBatchSize: s.microBatchSize,
    processes: s.processes,
    fastGradients: s.fastGradients,
    blas: blasMatMulInfo() !== null,
    loraTargets: spec.targets.length,
    hasSource: Boolean(input.source),
    hasWorkerEntry: gradWorkerEntry() !== null,
  });
  const adapter = input.init?.adapter ?? LoraAdapter.create(encoder.config, spec, s.seed);
  const head = input.init?.head ?? LinearHead.create(encoder.config.outputDim, input.numClasses, s.seed);
  const model = new TrainedModel(adapter, head);
  // With worker processes this process never runs the encoder: no training buffers here. With BLAS
  // matMuls (backend/blasMatMul.ts) transposed products are fast already: no transposed copies.
  const local = !execution.inWorkers;
  const fastBuffers = s.fastGradients && local && !blasMatMulInfo();
  const fast = fastBuffers ? new TransposeCache() : undefined;
  const release = fastBuffers ? prepareForTraining(encoder) : () => {};
  let pool: GradientPool | null = null;
  // Memory-tight runs force the leaner attention for their duration.
  if (local && execution.attention) setAttentionKernel(execution.attention);
  try {
    const vars = [...adapter.variables(), ...head.variables()];
    const dropout = spec.dropout > 0 ? new BranchDropout(spec.dropout, s.seed) : null;
    const hook = loraHook(adapter, dropout, fast);
    const totalSteps = loraSteps(s, items.length);
    if (!local) {
      pool = await GradientPool.start({
        processes: execution.processes,
        init: {
          source: input.source!,
          backend: tf.getBackend() as BackendName,
          lora: spec,
          numClasses: input.numClasses,
          seed: s.seed,
          fastGradients: s.fastGradients,
          microBatchSize: execution.microBatchSize,
          attention: execution.attention,
        },
      });
    }
    const result = await runTrainingLoop(
      vars,
      pool
        ? parallelMicroStep(pool, vars, items, input.batcher, s.seed, input.onWorkers)
        : async (idx, ids, step, batchSize) => {
            const seeds = ids.map((id) => hashSeed(s.seed, 'augment', step, id));
            const x = await input.batcher.load(
              idx.map((i) => items[i].path),
              seeds,
            );
            dropout?.setBatch(step, ids);
            try {
              return microBatchGrads(
                vars,
                () => head.apply(encoder.embed(x, hook, true)),
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
        // With a pool the whole batch is one call; each worker micro-batches its share.
        microBatchSize: pool ? s.batchSize : execution.microBatchSize,
        schedule: scheduleFor(totalSteps, s.lr, s.warmupSteps, s.minLr),
        adamw: { beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay },
        seed: s.seed,
        datasetSize: items.length,
        fingerprint: runFingerprint(s, items, {
          config: encoder.config,
          numClasses: input.numClasses,
          pipeline: input.batcher.pipeline.describe(),
          ...(input.initKey ? { init: input.initKey } : {}),
        }),
        checkpointPath: input.checkpointPath,
        checkpointEvery: s.checkpointEvery,
        resume: input.resume,
      },
      input,
    );
    return { ...result, totalSteps, model, execution };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    await pool?.dispose();
    if (local && execution.attention) setAttentionKernel('auto');
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
