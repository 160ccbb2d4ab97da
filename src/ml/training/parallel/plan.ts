// How a LoRA run executes: how many gradient processes and how many images per forward/backward.
// Neither changes the result (beyond float rounding; runFingerprint ignores both), only speed and
// memory, so they are chosen automatically unless the settings fix them:
//  - micro-batch: on wasm, at most what fits the 4 GiB heap (memoryModel.ts, measured);
//  - processes (settings.processes = 0, automatic): one per core on the wasm backend for
//    real-size models (tfjs-wasm is single-threaded in Node; 2 processes measured 1.9x on 2
//    cores), bounded by free memory and the batch size. Tiny models (tests) stay in one process:
//    starting a worker (~2 s) costs more than it saves. Other backends thread themselves: one.
import { availableParallelism, freemem } from 'node:os';
import type { EncoderConfig } from '../../models/encoder';
import { estimateTrainingHeap } from './memoryModel';

/** Forward GFLOP per image below which extra processes are not worth their start-up (ViT-B/16: 35). */
export const MIN_GFLOP_FOR_PROCESSES = 2;
/** Node, tfjs and JS-side buffers per worker process besides its wasm heap (measured RSS - heap: ~0.1-0.2 GB). */
const PROCESS_OVERHEAD_BYTES = 0.3 * 1024 ** 3;

export interface PlanInput {
  config: Pick<EncoderConfig, 'imageSize' | 'patchSize' | 'width' | 'depth' | 'mlpDim' | 'heads'>;
  backend: string;
  batchSize: number;
  /** settings.microBatchSize (an upper bound on wasm). */
  microBatchSize: number;
  /** settings.processes: 0 = automatic, else exactly that many (1 = this process). */
  processes: number;
  fastGradients: boolean;
  /** Whether wasm matMuls run on BLAS (backend/blasMatMul.ts): one weight copy instead of four. */
  blas?: boolean;
  /** LoRA targets (q, k, v, o) in use; each adds activations (default 2). */
  loraTargets?: number;
  /** Whether workers can load the model themselves (a checkpoint path is known). */
  hasSource: boolean;
  /** Whether the gradient worker script is present in this build. */
  hasWorkerEntry: boolean;
  cores?: number;
  freeMemoryBytes?: number;
}

export interface ExecutionPlan {
  /** Gradient processes: 1 with inWorkers false is this process. */
  processes: number;
  /** Gradients computed in worker processes (always when processes > 1; also for one worker when the heap is tight). */
  inWorkers: boolean;
  microBatchSize: number;
  /** Attention formulation to force for the run (memory-tight runs: per head keeps less); absent = backend default. */
  attention?: 'perHead';
  /** Why, in words, for logs and run records. */
  notes: string[];
}

export class PlanError extends Error {
  readonly kind = 'invalid-settings';
}

export function forwardGflopPerImage(c: PlanInput['config']): number {
  const t = (c.imageSize / c.patchSize) ** 2 + 1;
  const block = 2 * t * (4 * c.width * c.width + 2 * c.width * c.mlpDim) + 4 * t * t * c.width;
  return (c.depth * block) / 1e9;
}

export function planExecution(p: PlanInput): ExecutionPlan {
  const notes: string[] = [];
  let micro = Math.max(1, Math.min(p.microBatchSize, p.batchSize));
  let perProcessBytes = 0;
  let attention: ExecutionPlan['attention'];
  let tight = false;
  if (p.backend === 'wasm') {
    const mode = { blas: Boolean(p.blas), fastGradients: p.fastGradients, loraTargets: p.loraTargets };
    let est = estimateTrainingHeap(p.config, mode);
    if (p.blas && est.maxMicroBatch < Math.min(micro, 2)) {
      // Batched attention (the fast default with BLAS) keeps more for the backward: per head may fit better.
      const lean = estimateTrainingHeap(p.config, { ...mode, attention: 'perHead' });
      if (lean.maxMicroBatch > est.maxMicroBatch || (lean.maxMicroBatch === est.maxMicroBatch && est.tight && !lean.tight)) {
        est = lean;
        attention = 'perHead';
        notes.push('attention per head: it keeps less for the backward than batched attention');
      }
    }
    if (est.maxMicroBatch < 1) {
      throw Object.assign(
        new PlanError(
          `this model needs about ${gb(est.fixedBytes + est.perImageBytes)} of wasm heap for one training image; the wasm backend has 4 GiB per process` +
            `${p.blas ? '' : ' (without a BLAS library every frozen weight is held four times: apt-get install libopenblas0)'}. ` +
            `Train it on a GPU backend (cytotune doctor), or use a linear probe.`,
        ),
        { kind: 'model-too-large-for-wasm' as const },
      );
    }
    tight = est.tight;
    if (est.tight)
      notes.push(`one image per micro-batch needs about ${gb(est.fixedBytes + est.perImageBytes)} of the 4.29 GB wasm heap: little margin`);
    if (micro > est.maxMicroBatch) {
      notes.push(
        `micro-batch ${micro} -> ${est.maxMicroBatch}: ${est.maxMicroBatch + 1} images would not fit the 4 GiB wasm heap (about ${gb(est.fixedBytes)} + ${gb(est.perImageBytes)} per image)`,
      );
      micro = est.maxMicroBatch;
    }
    perProcessBytes = est.fixedBytes + micro * est.perImageBytes + PROCESS_OVERHEAD_BYTES;
  }

  const cores = p.cores ?? availableParallelism();
  let processes = 1;
  // A model that barely fits trains in worker processes: there the heap holds no optimiser state,
  // batch or accumulated gradients (ViT-L/14 aborted in one process, ran in workers).
  if (tight && (!p.hasSource || !p.hasWorkerEntry)) {
    throw Object.assign(
      new PlanError(
        `this model fits the 4 GiB wasm heap only in a separate worker process, which needs ${p.hasSource ? 'the gradient worker script in this build' : 'the checkpoint path'}`,
      ),
      { kind: 'model-too-large-for-wasm' as const },
    );
  }
  if (p.processes > 1) {
    if (!p.hasSource) throw new PlanError(`processes = ${p.processes} needs the model's checkpoint path so each worker can load it`);
    if (!p.hasWorkerEntry) throw new PlanError('processes > 1: the gradient worker script is not part of this build');
    processes = Math.min(p.processes, p.batchSize);
    notes.push(`${processes} gradient processes (as set)`);
  } else if (p.processes === 0) {
    const gflop = forwardGflopPerImage(p.config);
    const why =
      p.backend !== 'wasm'
        ? `backend ${p.backend} uses its own threads`
        : cores < 2
          ? 'one core'
          : p.batchSize < 2
            ? 'batch of one'
            : gflop < MIN_GFLOP_FOR_PROCESSES
              ? `small model (${gflop.toFixed(2)} GFLOP per image)`
              : !p.hasSource
                ? 'no checkpoint path for workers to load'
                : !p.hasWorkerEntry
                  ? 'gradient worker script not in this build'
                  : null;
    if (why) notes.push(`one process: ${why}`);
    else {
      const free = p.freeMemoryBytes ?? freemem();
      const byMemory = Math.max(1, Math.floor((0.85 * free) / Math.max(1, perProcessBytes)));
      processes = Math.max(1, Math.min(cores, p.batchSize, byMemory));
      notes.push(`${processes} gradient processes (automatic: ${cores} cores${byMemory < cores ? `, memory for ${byMemory}` : ''})`);
    }
  }
  if (tight && processes === 1) notes.push('one gradient worker process (this process keeps the optimiser)');
  return { processes, inWorkers: processes > 1 || tight, microBatchSize: micro, notes, ...(attention ? { attention } : {}) };
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
