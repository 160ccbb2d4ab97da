// The one inference interface embed, predict, batch classification and the linear probe's
// feature extraction use, whichever runtime is behind it (ONNX Runtime or TensorFlow.js).
import type { LoraAdapter } from '../adapters/loraAdapter';
import type { EncoderConfig } from '../models/encoder';
import type { LoadEncoderOptions } from '../models/loadEncoder';
import type { VitEncoder } from '../models/vit';
import type { LinearHead } from '../adapters/linearHead';
import type { OrtImporter } from './ortRuntime';
import type { EngineChoice } from '../../shared/jobs';
import type { Int8Options } from '../onnx/quantize';

export interface EngineOutputs {
  /** [n, outputDim] row-major. */
  embeddings: Float32Array;
  /** [n, C], only with a head. */
  logits?: Float32Array;
  /** [n, C] softmax of the logits, only with a head. */
  probabilities?: Float32Array;
}

export interface InferenceEngine {
  readonly name: 'onnx' | 'onnx-int8' | 'tfjs';
  /** Human-readable runtime, provider/backend and threads, e.g. for `embed` and `doctor`. */
  readonly detail: string;
  readonly config: EncoderConfig;
  /** What `run` returns: probabilities when a head was given, else embeddings. */
  readonly output: 'embeddings' | 'probabilities';
  /** Columns of `run`'s result. */
  readonly outputSize: number;
  /** Largest batch per runtime call: the batch size callers that fill batches should use. */
  readonly maxBatch: number;
  /**
   * batch: [n, 3, S, S] float32 NCHW, already normalised -> [n, outputSize] row-major.
   * Split internally into batches of at most `maxBatch` images.
   */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  runAll(batch: Float32Array, n: number): Promise<EngineOutputs>;
  /** Frees the session or the merged weights; also the encoder when the engine loaded it. */
  dispose(): Promise<void>;
}

export interface EngineOptions {
  /** Default 'auto': ONNX Runtime when onnxruntime-node loads, else tfjs. */
  engine?: EngineChoice;
  /** An encoder already loaded (not disposed by the engine) ... */
  encoder?: VitEncoder;
  /** ... or a checkpoint file (loaded, for tfjs or for an export, and disposed by the engine). */
  checkpoint?: string;
  loadOptions?: LoadEncoderOptions;
  /**
   * Identity of the base weights for the graph cache (e.g. the checkpoint's sha256). Computed
   * from the file for `checkpoint`; without it an `encoder` is exported in memory, uncached.
   */
  weightsId?: string;
  /** Trained LoRA, merged into q/k/v/o for inference (W' = W + s (BA)^T). */
  adapter?: LoraAdapter | null;
  /** Linear head: `run` then returns softmax probabilities. */
  head?: LinearHead | null;
  /** Folder of cached graphs; default defaultOnnxCacheDir(); null: never touch the disk. */
  cacheDir?: string | null;
  /** ONNX Runtime intra-op threads (default: all cores). */
  threads?: number;
  /** ONNX Runtime: let idle threads spin (default off; see SessionOptions.spinning). */
  spinning?: boolean;
  /** ONNX Runtime execution providers to try, best first (default: what is installed). */
  providers?: string[];
  /** Largest batch per runtime call (default 32 for ONNX Runtime fp32, 1 for int8: onnxEngine.ts; 8 for tfjs: wasm heap). */
  maxBatch?: number;
  /** onnx-int8: the recipe (default defaultInt8Options(): block 0 float32, weight range from this CPU's int8 kernels). */
  int8?: Int8Options;
  /** Loads onnxruntime-node another way (tests simulate a missing package with it). */
  importer?: OrtImporter;
}

export class EngineError extends Error {
  constructor(
    readonly kind: 'engine-unavailable' | 'invalid-engine-options',
    message: string,
  ) {
    super(message);
  }
}

/** One chunk's outputs, row-major: embeddings [m, d], and with a head logits and probabilities [m, c]. */
export type ChunkOutputs = [embeddings: Float32Array, logits?: Float32Array, probabilities?: Float32Array];

/**
 * Runs `n` images of `per` values in chunks of at most `maxBatch` through `runChunk` and
 * gathers the outputs: the batching both engines share.
 */
export async function runInChunks(
  batch: Float32Array,
  n: number,
  per: number,
  maxBatch: number,
  dims: { embedding: number; classes: number | null },
  runChunk: (chunk: Float32Array, m: number) => Promise<ChunkOutputs>,
): Promise<EngineOutputs> {
  if (batch.length < n * per) throw new Error(`run: ${batch.length} values for ${n} images of ${per}`);
  const d = dims.embedding;
  const c = dims.classes ?? 0;
  const out: EngineOutputs = { embeddings: new Float32Array(n * d) };
  if (dims.classes !== null) {
    out.logits = new Float32Array(n * c);
    out.probabilities = new Float32Array(n * c);
  }
  for (let i = 0; i < n; i += maxBatch) {
    const m = Math.min(maxBatch, n - i);
    const [e, logits, probabilities] = await runChunk(batch.subarray(i * per, (i + m) * per), m);
    out.embeddings.set(e, i * d);
    if (logits && probabilities) {
      out.logits!.set(logits, i * c);
      out.probabilities!.set(probabilities, i * c);
    }
  }
  return out;
}
