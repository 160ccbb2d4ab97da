// The hot loop of batch classification: patches -> preallocated batch slots (filled by the
// preprocessing threads) -> engine, with the next batches prepared while the engine runs one
// (overlapQueue.ts). Per batch it allocates only the engine's outputs; per patch nothing on this
// thread.
import { runOverlapped, type OverlapTimes } from './overlapQueue';
import type { InferenceEngine } from './engineTypes';
import type { PipelineOptions } from '../data/imagePipeline';
import type { PatchItem } from '../../shared/jobs';
import { createPatchPrep } from './prepPool';

export interface ClassifyItemsOptions {
  /** Built with a head: its outputs are probabilities [m, C]. */
  engine: InferenceEngine;
  pipeline: PipelineOptions;
  items: readonly PatchItem[];
  batchSize: number;
  /** Preprocessing threads; 0 preprocesses in this thread (still overlapped with the engine). */
  threads: number;
  /** Batch slots in the ring (default 3: two batches prepared ahead of the running one). */
  slots?: number;
  signal?: AbortSignal;
  /** Items [start, start + m) are done: probabilities [m, C] row-major (a fresh array per batch). */
  onBatch(start: number, probabilities: Float32Array, m: number): void | Promise<void>;
  /** Thread entry override (tests); see createPatchPrep. */
  entry?: string | null;
}

/** Default preprocessing threads: one per core the engine's threads leave over, at least one, at most 4. */
export function defaultPrepThreads(cores: number): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 4)));
}

export async function classifyItems(o: ClassifyItemsOptions): Promise<{ threads: number } & OverlapTimes> {
  if (o.engine.output !== 'probabilities') throw new Error('classifyItems needs an engine created with a head');
  const S = o.pipeline.size;
  if (S !== o.engine.config.imageSize) throw new Error(`pipeline makes ${S}px inputs but the model expects ${o.engine.config.imageSize}px`);
  const per = 3 * S * S;
  const bs = Math.max(1, Math.min(o.batchSize, o.items.length || 1));
  const batches = Math.ceil(o.items.length / bs);
  const prep = createPatchPrep({ pipeline: o.pipeline, batchSize: bs, slots: o.slots ?? 3, threads: o.threads, entry: o.entry });
  const count = (b: number) => Math.min(bs, o.items.length - b * bs);
  // Shared slots reach the engine through one ordinary buffer (a memcpy per batch, ~2 ms for 32
  // ViT inputs against the batch's 100s of ms); the engine runs one batch at a time, so one will do.
  const input = prep.shared ? new Float32Array(bs * per) : null;
  const engineInput = (slot: number, m: number): Float32Array => {
    const values = prep.slots[slot].subarray(0, m * per);
    if (!input) return values;
    input.set(values);
    return input.subarray(0, m * per);
  };
  try {
    const times = await runOverlapped({
      batches,
      slots: prep.slots.length,
      signal: o.signal,
      fill: (slot, b) => prep.fill(slot, o.items.slice(b * bs, b * bs + count(b))),
      infer: (slot, b) => o.engine.run(engineInput(slot, count(b)), count(b)),
      onResult: (b, probabilities) => o.onBatch(b * bs, probabilities, count(b)),
    });
    return { threads: prep.threads, ...times };
  } finally {
    await prep.close();
  }
}
