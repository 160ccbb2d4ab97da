// Engine selection: `--engine auto|tfjs|onnx|onnx-int8`. auto = ONNX Runtime (fp32) when
// onnxruntime-node loads (and opens the graph), else TensorFlow.js; onnx or onnx-int8 without
// the package is a clear error. onnx-int8 runs the int8 graph (quantize.ts); auto never picks it
// here: a run's classification does, through classificationEngine (int8Check.ts), only where
// the run's stored agreement check passed.
//
//   const engine = await createInferenceEngine({ checkpoint, adapter, head, engine: 'auto' });
//   try { const probs = await engine.run(nchw, n); } finally { await engine.dispose(); }
//
// GPU: ONNX Runtime uses CUDA when its provider is installed. Offline installs skip it (.npmrc
// `onnxruntime-node-install=skip`); an online Linux user with CUDA 12 + cuDNN 9 gets it with
// `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (downloads the CUDA EP).
import { createOnnxEngine, OrtSessionError } from './onnxEngine';
import { EngineError, type EngineOptions, type InferenceEngine } from './engineTypes';
import { ENGINE_CHOICES, type EngineChoice } from '../../shared/jobs';
import { installedProviders, loadOnnxRuntime, type OrtImporter, type OrtModule } from './ortRuntime';
import { createTfjsEngine } from './tfjsEngine';

export { EngineError, type EngineOptions, type EngineOutputs, type InferenceEngine } from './engineTypes';
export { checkpointConfig } from '../onnx/checkpointConfig';
export { DEFAULT_INT8_BAR, int8Agreement, int8AgreementPassed, type Int8Agreement } from './int8Agreement';

/** Parses a command-line value; undefined means 'auto'. Throws EngineError for anything else. */
export function parseEngineChoice(value: string | undefined): EngineChoice {
  if (value === undefined) return 'auto';
  if (!(ENGINE_CHOICES as readonly string[]).includes(value))
    throw new EngineError('invalid-engine-options', `--engine must be auto, tfjs or onnx (got ${value}), or onnx-int8 for the int8 graph`);
  return value as EngineChoice;
}

export type EngineResolution =
  { engine: 'onnx' | 'onnx-int8'; ort: OrtModule; version: string; reason: string } | { engine: 'tfjs'; reason: string };

/**
 * Which runtime `choice` means on this installation, and why. onnx or onnx-int8 without a loadable
 * onnxruntime-node throws EngineError kind 'engine-unavailable' (what to install, or use tfjs).
 */
export async function resolveEngine(choice: EngineChoice = 'auto', importer?: OrtImporter): Promise<EngineResolution> {
  if (choice === 'tfjs') return { engine: 'tfjs', reason: 'requested with --engine tfjs' };
  const ort = await loadOnnxRuntime(importer);
  if (ort.ok)
    return {
      engine: choice === 'onnx-int8' ? 'onnx-int8' : 'onnx',
      ort: ort.ort,
      version: ort.version,
      reason: choice === 'auto' ? 'onnxruntime-node is installed' : `requested with --engine ${choice}`,
    };
  if (choice !== 'auto') throw new EngineError('engine-unavailable', `--engine ${choice}: ${ort.reason}; or use --engine tfjs`);
  return { engine: 'tfjs', reason: ort.reason };
}

/** For `cytotune doctor`: is ONNX Runtime usable, which version and providers, or why not. */
export async function onnxRuntimeStatus(
  importer?: OrtImporter,
): Promise<{ available: true; version: string; providers: string[] } | { available: false; reason: string }> {
  const r = await loadOnnxRuntime(importer);
  return r.ok ? { available: true, version: r.version, providers: installedProviders(r.ort) } : { available: false, reason: r.reason };
}

/** An inference engine for an encoder or checkpoint, with optional merged LoRA and head. */
export async function createInferenceEngine(o: EngineOptions): Promise<InferenceEngine> {
  const r = await resolveEngine(o.engine ?? 'auto', o.importer);
  if (r.engine === 'tfjs') return createTfjsEngine(o, o.engine === 'tfjs' ? undefined : r.reason);
  try {
    return await createOnnxEngine(r.ort, r.version, o, r.engine === 'onnx-int8' ? 'int8' : 'fp32');
  } catch (err) {
    // Only auto falls back, and only when ONNX Runtime itself refused the graph.
    if ((o.engine ?? 'auto') === 'auto' && err instanceof OrtSessionError) return createTfjsEngine(o, err.message.split('\n')[0]);
    throw err;
  }
}
