// Messages between the training process and its gradient workers (child processes over Node IPC
// with `serialization: 'advanced'`, so Float32Arrays travel as binary, not JSON). The frozen
// model never crosses: each worker loads it from `EncoderSource` itself. Per optimiser step the
// parent sends the current trainable values (LoRA + head: 81 k floats for ViT-B r=2) and the
// pre-processed pixels of the worker's share; the worker answers with its gradient sum.
import type { LoraSpec } from '../../adapters/loraConfig';
import type { FamilyName } from '../../models/encoder';
import type { RandomModelSpec } from '../../models/randomEncoder';
import type { BackendName } from '../../../shared/jobs';

/** Where a worker gets the frozen encoder: the checkpoint file, or (tests, benchmarks) a seeded random model. */
export type EncoderSource =
  | { kind: 'checkpoint'; path: string; family?: FamilyName; heads?: number; activation?: 'gelu' | 'quick_gelu' }
  | { kind: 'random'; spec: RandomModelSpec; seed: number };

export interface WorkerInit {
  type: 'init';
  source: EncoderSource;
  backend: BackendName;
  lora: LoraSpec;
  numClasses: number;
  seed: number;
  /** Wasm-friendly custom gradients (settings.fastGradients). */
  fastGradients: boolean;
  /** Images per forward/backward inside the worker. */
  microBatchSize: number;
  /** Threads for BLAS matMuls in this worker (cores / workers). */
  blasThreads?: number;
  /** Attention formulation to force (ExecutionPlan.attention). */
  attention?: 'perHead';
}

export interface GradRequest {
  type: 'grads';
  id: number;
  step: number;
  /** Size of the whole optimiser batch (the loss divisor). */
  batchSize: number;
  /** Trainable values in the trainer's variable order (adapter A,B per layer, then head w, b). */
  params: Float32Array[];
  /** [n, 3, S, S] normalised pixels, n = labels.length. */
  images: Float32Array;
  imageSize: number;
  labels: number[];
  /** Position of each image in the optimiser batch: keys its LoRA dropout masks. */
  sampleIds: number[];
}

export type ToWorker = WorkerInit | GradRequest | { type: 'exit' };

export type FromWorker =
  /** Listening (messages sent before this could be lost while the module graph loads). */
  | { type: 'up' }
  | { type: 'ready'; pid: number; backend: string }
  | { type: 'grads'; id: number; lossSum: number; correct: number; grads: Float32Array[]; peakRssBytes: number; seconds: number }
  | { type: 'error'; id?: number; kind: string; message: string };
