// The one inference interface embed, predict, batch classification and the linear probe's
// feature extraction use, whichever runtime is behind it (ONNX Runtime or TensorFlow.js).
import type { LoraAdapter } from '../lora/loraAdapter';
import type { EncoderConfig } from '../model/encoder';
import type { LoadEncoderOptions } from '../model/loadEncoder';
import type { VitEncoder } from '../model/vit';
import type { LinearHead } from '../train/linearHead';
import type { OrtImporter } from './ortRuntime';

export type EngineChoice = 'auto' | 'tfjs' | 'onnx';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'tfjs', 'onnx'];

export interface EngineOutputs {
  /** [n, outputDim] row-major. */
  embeddings: Float32Array;
  /** [n, C], only with a head. */
  logits?: Float32Array;
  /** [n, C] softmax of the logits, only with a head. */
  probabilities?: Float32Array;
}

export interface InferenceEngine {
  readonly name: 'onnx' | 'tfjs';
  /** Human-readable runtime, provider/backend and threads, e.g. for `embed` and `doctor`. */
  readonly detail: string;
  readonly config: EncoderConfig;
  /** What `run` returns: probabilities when a head was given, else embeddings. */
  readonly output: 'embeddings' | 'probabilities';
  /** Columns of `run`'s result. */
  readonly outputSize: number;
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
  /** Largest batch per runtime call (default 32 for ONNX Runtime, 8 for tfjs: wasm heap). */
  maxBatch?: number;
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
