// The int8 agreement check of a trained run: measured once at export (end of training, on the
// project's labelled cells, against the full-precision probabilities the evaluation already
// computed), stored in the run's metrics.json, and read back when the run classifies: `--engine
// auto` then uses the int8 graph only where the stored check passed for the same int8 graph.
//
//   const check = await measureInt8Check(engineOptions, batcher, paths, fp32Probabilities);
//   const { engine, reason } = await classificationEngine({ ...engineOptions, engine: 'auto' }, check);
import { DEFAULT_INT8_BAR, int8CheckPasses, int8Decision, type Int8Bar, type Int8Check, type Int8GraphId } from '../../shared/int8Check';
import type { EmbedOptions } from '../eval/embedItems';
import type { ImageBatcher } from '../data/imageBatcher';
import { EXPORT_VERSION } from '../onnx/exportVit';
import { defaultInt8Options, int8GraphKey, type Int8Options } from '../onnx/quantize';
import { createInferenceEngine } from './engine';
import { predictPathsWithEngine } from './enginePaths';
import { EngineError, type EngineOptions, type InferenceEngine } from './engineTypes';
import { agreementOf } from './int8Agreement';
import { OrtSessionError } from './onnxEngine';

/** The int8 graph this machine builds (the exporter, the weight range of its CPU, the recipe). */
export function int8GraphId(o?: Int8Options): Int8GraphId {
  return { exporter: EXPORT_VERSION, ...int8GraphKey(o ?? defaultInt8Options()) } as Int8GraphId;
}

/**
 * Runs `paths` through the int8 graph of `engine` (encoder or checkpoint, LoRA, head; cached like
 * the fp32 graph) and compares with their full-precision probabilities `fp32` ([paths.length, C]).
 */
export async function measureInt8Check(
  engine: Omit<EngineOptions, 'engine'>,
  batcher: ImageBatcher,
  paths: string[],
  fp32: Float32Array,
  o: EmbedOptions & { bar?: Int8Bar } = {},
): Promise<Int8Check> {
  const bar = o.bar ?? DEFAULT_INT8_BAR;
  const int8 = await createInferenceEngine({ ...engine, engine: 'onnx-int8' });
  try {
    const p = await predictPathsWithEngine(int8, batcher, paths, o);
    const a = agreementOf(fp32, p.probabilities, p.numClasses);
    return { ...a, bar, passed: int8CheckPasses(a, bar), graph: int8GraphId(engine.int8), measuredAt: new Date().toISOString() };
  } finally {
    await int8.dispose();
  }
}

export interface ChosenEngine {
  engine: InferenceEngine;
  /** Why this engine, in words for the job result and the UI. */
  reason: string;
}

/**
 * The engine a run classifies with. A forced choice is taken as it is; `auto` takes int8 when the
 * run's stored check passed for this machine's int8 graph (int8Decision), else what auto means
 * (ONNX Runtime fp32, or tfjs without it). int8 that cannot open falls back to that too.
 */
export async function classificationEngine(o: EngineOptions, check: Int8Check | null | undefined): Promise<ChosenEngine> {
  const choice = o.engine ?? 'auto';
  if (choice !== 'auto') return { engine: await createInferenceEngine(o), reason: `requested with --engine ${choice}` };
  const d = int8Decision(check, int8GraphId(o.int8));
  let reason = d.reason;
  if (d.useInt8) {
    try {
      return { engine: await createInferenceEngine({ ...o, engine: 'onnx-int8' }), reason };
    } catch (err) {
      if (!(err instanceof EngineError || err instanceof OrtSessionError)) throw err;
      reason = `full precision: the stored int8 check passed but the int8 engine did not open (${err.message.split('\n')[0]})`;
    }
  }
  const engine = await createInferenceEngine(o);
  return { engine, reason: engine.name === 'tfjs' ? `${reason}; ONNX Runtime not used: ${engine.detail}` : reason };
}
