// The ONNX Runtime implementation of InferenceEngine: export our ViT (LoRA merged, optional
// head) to ONNX once per (checkpoint, adapter, head, config), cache the graph on disk, run it
// on the best installed provider (CPU with all cores here). tfjs is only needed on a cache
// miss, to read the weights (and merge LoRA) for the export.
import { rmSync } from 'node:fs';
import { sha256File } from '../adapters/baseIdentity';
import type { EncoderConfig } from '../models/encoder';
import { loadEncoder } from '../models/loadEncoder';
import type { VitEncoder } from '../models/vit';
import { checkpointConfig } from '../onnx/checkpointConfig';
import { EngineError, runInChunks, type EngineOptions, type EngineOutputs, type InferenceEngine } from './engineTypes';
import { buildVitModel, EXPORT_VERSION, ONNX_INPUT, ONNX_OUTPUTS } from '../onnx/exportVit';
import { hostHead, hostWeightsOf, mergedOverrides } from '../onnx/hostWeights';
import { cachedModelPath, cacheKey, defaultOnnxCacheDir, lookupCached, pruneCache, writeModelFile } from '../onnx/modelCache';
import { adapterHash, headHash } from '../onnx/modelIdentity';
import { openSession, type OrtModule, type SessionChoice } from './ortRuntime';
import type { ProtoMessage } from '../onnx/protobuf';
import { defaultInt8Options, int8GraphKey, type Int8Options, type Precision } from '../onnx/quantize';

/** Thrown when ONNX Runtime refuses the session (auto mode then falls back to tfjs). */
export class OrtSessionError extends Error {
  readonly kind = 'onnx-session-failed';
}

export interface OnnxEngineInfo {
  cache: 'hit' | 'miss' | 'off';
  /** Seconds spent loading weights and writing the graph (0 on a cache hit). */
  exportSeconds: number;
  modelPath: string | null;
  provider: string;
}

export type OnnxEngine = InferenceEngine & { readonly info: OnnxEngineInfo };

interface Plan {
  config: EncoderConfig;
  weightsId: string | undefined;
  /** The encoder to export from, and whether the engine must dispose it afterwards. */
  load: () => { encoder: VitEncoder; owned: boolean };
}

async function plan(o: EngineOptions): Promise<Plan> {
  if (!o.encoder === !o.checkpoint) throw new EngineError('invalid-engine-options', 'give either an encoder or a checkpoint path');
  if (o.encoder) {
    const encoder = o.encoder;
    return { config: encoder.config, weightsId: o.weightsId, load: () => ({ encoder, owned: false }) };
  }
  const path = o.checkpoint!;
  // Reads only the header/index: unusable files fail here with their CheckpointError kind.
  const config = checkpointConfig(path, o.loadOptions);
  // The file's hash keys the graph cache; without a cache there is nothing to key.
  const weightsId = o.weightsId ?? (o.cacheDir === null ? undefined : `sha256:${await sha256File(path)}`);
  return { config, weightsId, load: () => ({ encoder: loadEncoder(path, o.loadOptions), owned: true }) };
}

/** Builds the graph and hands it to `write` while the encoder's weights are alive. */
function exportModel<R>(p: Plan, o: EngineOptions, int8: Int8Options | null, write: (model: ProtoMessage) => R): R {
  const { encoder, owned } = p.load();
  try {
    const overrides = o.adapter ? mergedOverrides(encoder, o.adapter) : undefined;
    return write(buildVitModel(encoder.config, hostWeightsOf(encoder), { overrides, head: o.head ? hostHead(o.head) : null, int8 }));
  } finally {
    if (owned) encoder.dispose();
  }
}

export async function createOnnxEngine(
  ort: OrtModule,
  version: string,
  o: EngineOptions,
  precision: Precision = 'fp32',
): Promise<OnnxEngine> {
  const p = await plan(o);
  const int8 = precision === 'int8' ? (o.int8 ?? defaultInt8Options()) : null;
  const cfg = p.config;
  const head = o.head ?? null;
  if (head && head.inputDim !== cfg.outputDim)
    throw new EngineError(
      'invalid-engine-options',
      `head expects ${head.inputDim}-dim embeddings but the encoder outputs ${cfg.outputDim}`,
    );
  const cacheDir = o.cacheDir === undefined ? defaultOnnxCacheDir() : o.cacheDir;
  const key = cacheKey({
    exporter: EXPORT_VERSION,
    weights: p.weightsId ?? null,
    config: cfg,
    adapter: o.adapter ? adapterHash(o.adapter) : null,
    head: head ? headHash(head) : null,
    precision: int8 ? { int8: int8GraphKey(int8) } : 'fp32',
  });
  const path = cacheDir && p.weightsId ? cachedModelPath(cacheDir, key, int8 ? `${cfg.family}-int8` : cfg.family) : null;

  const t0 = performance.now();
  let cache: OnnxEngineInfo['cache'] = path ? 'hit' : 'off';
  let source: string | Uint8Array | null = path ? lookupCached(path) : null;
  if (!source) {
    source = exportModel(p, o, int8, (model) => {
      if (path) {
        try {
          writeModelFile(path, model);
          pruneCache(cacheDir!, path);
          cache = 'miss';
          return path;
        } catch {
          // Unwritable or full cache folder: run from memory this time.
          cache = 'off';
        }
      }
      return model.toBytes();
    });
  }
  const exportSeconds = cache === 'hit' ? 0 : (performance.now() - t0) / 1000;

  let chosen: SessionChoice;
  try {
    chosen = await openSession(ort, source, { threads: o.threads, providers: o.providers, spinning: o.spinning });
  } catch (err) {
    if (cache !== 'hit') throw new OrtSessionError(`ONNX Runtime could not open the exported graph: ${(err as Error).message}`);
    // A damaged cache file (e.g. a disk filled up mid-write elsewhere): rebuild it once.
    rmSync(path!, { force: true });
    exportModel(p, o, int8, (model) => writeModelFile(path!, model));
    cache = 'miss';
    chosen = await openSession(ort, path!, { threads: o.threads, providers: o.providers, spinning: o.spinning }).catch((e: Error) => {
      throw new OrtSessionError(`ONNX Runtime could not open the exported graph: ${e.message}`);
    });
  }
  source = null; // let the in-memory bytes go: ORT holds its own copy

  const session = chosen.session;
  // int8 runs one image per call: activations are quantized per call (one scale per tensor), so
  // each image then gets its own scale and its result does not depend on its batchmates (the
  // run's stored int8 check holds for any batch). About as fast (bench/int8-agreement.ts, ViT-B:
  // 0.069 CPU-s per image at 1 per call, 0.067 at 8; on a loaded machine 0.081 and 0.094).
  const maxBatch = o.maxBatch ?? (int8 ? 1 : 32);
  const S = cfg.imageSize;
  const per = 3 * S * S;
  const fetches = head ? [ONNX_OUTPUTS.embeddings, ONNX_OUTPUTS.logits, ONNX_OUTPUTS.probabilities] : [ONNX_OUTPUTS.embeddings];

  const runAll = (batch: Float32Array, n: number): Promise<EngineOutputs> =>
    runInChunks(batch, n, per, maxBatch, { embedding: cfg.outputDim, classes: head?.numClasses ?? null }, async (chunk, m) => {
      const r = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', chunk, [m, 3, S, S]) }, fetches);
      const data = (name: string) => r[name].data as Float32Array;
      return head
        ? [data(ONNX_OUTPUTS.embeddings), data(ONNX_OUTPUTS.logits), data(ONNX_OUTPUTS.probabilities)]
        : [data(ONNX_OUTPUTS.embeddings)];
    });

  const provider = chosen.provider + (chosen.fallback ? `; not ${chosen.fallback}` : '');
  return {
    name: int8 ? 'onnx-int8' : 'onnx',
    detail: `onnxruntime-node ${version}${int8 ? ' int8' : ''} (${chosen.provider} provider, ${chosen.threads} thread${chosen.threads === 1 ? '' : 's'}, graph cache ${cache})`,
    config: cfg,
    output: head ? 'probabilities' : 'embeddings',
    outputSize: head ? head.numClasses : cfg.outputDim,
    maxBatch,
    info: { cache, exportSeconds, modelPath: path, provider },
    runAll,
    run: async (batch, n) => {
      const r = await runAll(batch, n);
      return head ? r.probabilities! : r.embeddings;
    },
    dispose: () => session.release(),
  };
}
