// A finished run's evaluation through an InferenceEngine (ONNX Runtime fp32 where installed, its
// graph cached under the checkpoint's sha256 so the run's first classification finds it), and the
// int8 agreement check on the same labelled items, against the probabilities just computed.
import type { LabeledItem } from '../data/fewShot';
import type { ImageBatcher } from '../data/imageBatcher';
import { metricsOfPredictions, type Predictions } from '../eval/evaluate';
import { createInferenceEngine } from '../inference/engine';
import { predictPathsWithEngine } from '../inference/enginePaths';
import type { EngineOptions } from '../inference/engineTypes';
import { measureInt8Check } from '../inference/int8Check';
import type { VitEncoder } from '../models/vit';
import type { TrainedModel } from './trainedModel';
import type { RunMetrics, SplitMetrics } from '../../shared/jobs';

/** Most labelled items the int8 check compares (about 2 s of int8 ViT-B on a lab PC per 100). */
export const INT8_CHECK_MAX_ITEMS = 512;

export interface RunEvaluationRequest {
  encoder: VitEncoder;
  checkpointSha256: string;
  model: TrainedModel;
  batcher: ImageBatcher;
  splits: { train: LabeledItem[]; val: LabeledItem[]; test: LabeledItem[] };
  batchSize: number;
  /** Full-precision engine for the metrics (default auto: ONNX Runtime, else tfjs). */
  engine?: 'auto' | 'tfjs' | 'onnx';
  /** Measure the int8 check (default true; needs ONNX Runtime). */
  int8Check?: boolean;
  /** Graph cache folder (default: the user cache folder). */
  cacheDir?: string | null;
  signal?: AbortSignal;
}

export type RunEvaluation = Pick<RunMetrics, 'train' | 'val' | 'test' | 'valPredicted' | 'evaluation' | 'int8' | 'int8Note'>;

export async function evaluateRun(r: RunEvaluationRequest): Promise<RunEvaluation> {
  const options: Omit<EngineOptions, 'engine'> = {
    encoder: r.encoder,
    weightsId: `sha256:${r.checkpointSha256}`,
    adapter: r.model.adapter,
    head: r.model.head,
    cacheDir: r.cacheDir,
  };
  const engine = await createInferenceEngine({ ...options, engine: r.engine ?? 'auto' });
  // Every item's fp32 probabilities by path, for the int8 check.
  const seen = new Map<string, Float32Array>();
  const embed = { batchSize: r.batchSize, signal: r.signal };
  let valPredicted: number[] = [];
  const evalOf = async (items: LabeledItem[], keep = false): Promise<SplitMetrics> => {
    if (items.length === 0) return null;
    const p: Predictions = await predictPathsWithEngine(
      engine,
      r.batcher,
      items.map((it) => it.path),
      embed,
    );
    items.forEach((it, i) => seen.set(it.path, p.probabilities.subarray(i * p.numClasses, (i + 1) * p.numClasses)));
    if (keep) valPredicted = p.predicted;
    return metricsOfPredictions(items, p);
  };
  let out: RunEvaluation;
  try {
    // Order kept from before: train, val, test.
    const train = await evalOf(r.splits.train);
    const val = await evalOf(r.splits.val, true);
    const test = await evalOf(r.splits.test);
    out = { train, val, test, valPredicted, evaluation: { engine: engine.name, detail: engine.detail }, int8: null };
  } finally {
    await engine.dispose();
  }
  if (r.int8Check === false) return { ...out, int8Note: 'not measured (turned off)' };
  if (engine.name !== 'onnx') return { ...out, int8Note: `not measured: the evaluation ran on ${engine.detail}, not ONNX Runtime` };
  // Validation and test first: held-out cells say more than the ones the head was fitted to.
  const paths = [...new Set([...r.splits.val, ...r.splits.test, ...r.splits.train].map((it) => it.path))].slice(0, INT8_CHECK_MAX_ITEMS);
  if (paths.length === 0) return { ...out, int8Note: 'not measured: no labelled items' };
  const c = r.model.head.numClasses;
  const fp32 = new Float32Array(paths.length * c);
  paths.forEach((p, i) => fp32.set(seen.get(p)!, i * c));
  try {
    return { ...out, int8: await measureInt8Check(options, r.batcher, paths, fp32, embed) };
  } catch (err) {
    if (r.signal?.aborted) throw err;
    return { ...out, int8Note: `not measured: ${(err as Error).message.split('\n')[0]}` };
  }
}
