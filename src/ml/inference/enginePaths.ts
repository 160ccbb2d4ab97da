// Image files through an InferenceEngine, batch by batch: the engine counterparts of
// embedItems (linear-probe features, embeddings) and predictPaths (batch classification).
// Images go from the pipeline straight into one Float32Array per batch (no tfjs tensors).
import { argmaxRows } from '../../shared/metrics';
import type { EmbedOptions } from '../eval/embedItems';
import type { Predictions } from '../eval/evaluate';
import type { LoadEncoderOptions } from '../models/loadEncoder';
import type { ImageBatcher } from '../data/imageBatcher';
import type { TrainedModel } from '../training/trainedModel';
import type { Int8Check } from '../../shared/int8Check';
import { classificationEngine } from './int8Check';
import type { EngineOutputs, InferenceEngine } from './engineTypes';
import type { EngineChoice } from '../../shared/jobs';

/** All outputs of `engine` for `paths`, row-major, in order. */
export async function runPaths(
  engine: InferenceEngine,
  batcher: ImageBatcher,
  paths: string[],
  o: EmbedOptions = {},
): Promise<EngineOutputs> {
  const bs = o.batchSize ?? 32;
  const S = batcher.pipeline.size;
  if (S !== engine.config.imageSize) throw new Error(`pipeline makes ${S}px inputs but the model expects ${engine.config.imageSize}px`);
  const per = 3 * S * S;
  const parts: EngineOutputs[] = [];
  // The engine runs a batch (on ONNX Runtime's threads, or tfjs) while the next batch is read
  // and preprocessed here: reading slide patches overlaps inference instead of adding to it.
  let running: Promise<EngineOutputs> | null = null;
  let runningDone = 0;
  for (let start = 0; start < paths.length; start += bs) {
    if (o.signal?.aborted) throw new DOMException('inference cancelled', 'AbortError');
    const chunk = paths.slice(start, start + bs);
    const buf = new Float32Array(chunk.length * per);
    for (let i = 0; i < chunk.length; i++) {
      const img = await batcher.decode(chunk[i]);
      buf.set(batcher.pipeline.prepare(img, o.augmentSeeds ? o.augmentSeeds[start + i] : null), i * per);
    }
    if (running) {
      parts.push(await running);
      o.onBatch?.(runningDone, paths.length);
    }
    running = engine.runAll(buf, chunk.length);
    runningDone = Math.min(start + bs, paths.length);
  }
  if (running) {
    parts.push(await running);
    o.onBatch?.(runningDone, paths.length);
  }
  const join = (key: keyof EngineOutputs): Float32Array | undefined => {
    if (parts.length && !parts[0][key]) return undefined;
    const out = new Float32Array(parts.reduce((a, p) => a + p[key]!.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p[key]!, off);
      off += p[key]!.length;
    }
    return out;
  };
  return { embeddings: join('embeddings') ?? new Float32Array(0), logits: join('logits'), probabilities: join('probabilities') };
}

/** Embeddings [paths.length, outputDim] (drop-in for embedItems with an engine). */
export async function embedPathsWithEngine(
  engine: InferenceEngine,
  batcher: ImageBatcher,
  paths: string[],
  o: EmbedOptions = {},
): Promise<Float32Array> {
  return (await runPaths(engine, batcher, paths, o)).embeddings;
}

/** Softmax predictions of an engine built with a head (drop-in for predictPaths). */
export async function predictPathsWithEngine(
  engine: InferenceEngine,
  batcher: ImageBatcher,
  paths: string[],
  o: EmbedOptions = {},
): Promise<Predictions> {
  if (engine.output !== 'probabilities') throw new Error('predictPathsWithEngine needs an engine created with a head');
  const r = await runPaths(engine, batcher, paths, o);
  const c = engine.outputSize;
  const probabilities = r.probabilities ?? new Float32Array(0);
  return { probabilities, predicted: argmaxRows(probabilities, c), numClasses: c };
}

export interface PredictWithEngineOptions extends EmbedOptions {
  engine: EngineChoice;
  /** The base checkpoint and its sha256 (already verified by the caller; keys the graph cache). */
  checkpoint: string;
  checkpointSha256: string;
  loadOptions?: LoadEncoderOptions;
  model: TrainedModel;
  batcher: ImageBatcher;
  paths: string[];
  /** Folder of cached graphs (default: the user cache folder). */
  cacheDir?: string | null;
  /** The run's stored int8 agreement check (metrics.json): lets `auto` classify with int8. */
  int8Check?: Int8Check | null;
  /** Called once the engine is open, before the first batch (e.g. to name it in progress). */
  onEngine?: (name: InferenceEngine['name'], reason: string) => void;
}

export interface EngineUsed {
  /** The engine's detail line (runtime, provider, threads, graph cache). */
  engine: string;
  engineName: InferenceEngine['name'];
  /** Why this engine (classificationEngine). */
  engineReason: string;
}

/**
 * `cytotune predict` / batch classification in one call: an engine for the checkpoint with the
 * run's LoRA merged and its head (int8 under `auto` where the run's stored check passed), the
 * predictions, then the engine disposed. With the ONNX engine and a cached graph no tfjs
 * weights are loaded at all.
 */
export async function predictWithEngine(o: PredictWithEngineOptions): Promise<Predictions & EngineUsed> {
  const { engine, reason } = await classificationEngine(
    {
      engine: o.engine,
      checkpoint: o.checkpoint,
      loadOptions: o.loadOptions,
      weightsId: `sha256:${o.checkpointSha256}`,
      adapter: o.model.adapter,
      head: o.model.head,
      cacheDir: o.cacheDir,
    },
    o.int8Check,
  );
  try {
    o.onEngine?.(engine.name, reason);
    return {
      ...(await predictPathsWithEngine(engine, o.batcher, o.paths, o)),
      engine: engine.detail,
      engineName: engine.name,
      engineReason: reason,
    };
  } finally {
    await engine.dispose();
  }
}
