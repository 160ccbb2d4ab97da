// The jobs the ML worker runs and the messages between main's job manager and the worker:
// one spec and one result type per kind, discriminated unions on both sides of the process
// boundary; errors are values with a kind. Progress is throttled by the worker (~250 ms).
import type { DetectedCell, DetectionCheckpoint } from './cells';
import type { ClassificationMetrics } from './metrics';
import type { ExperimentOptions, TrainSettings } from './training';
import type { Box } from './image';
import type { Int8Check } from './int8Check';

/**
 * Which inference engine runs a trained model: ONNX Runtime when installed (auto), or one forced;
 * onnx-int8 is ONNX Runtime on the int8 graph (ml/onnx/quantize.ts); auto classifies with it only
 * where the run's stored int8 check passed (shared/int8Check.ts), never otherwise.
 */
export type EngineChoice = 'auto' | 'tfjs' | 'onnx' | 'onnx-int8';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'tfjs', 'onnx', 'onnx-int8'];

/** The tfjs backends a job may be pinned to (ml/backend/selectBackend.ts chooses among them). */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** An item of training or classification: a whole image file, or a level-0 box of a slide. */
export interface PatchItem {
  /** Unique within the job; what the trainer and the batcher call the item's path. */
  key: string;
  path: string;
  /** Level-0 box, or null for the whole image. */
  box: Box | null;
}

export interface LabelledPatch extends PatchItem {
  label: number;
}

export interface TrainJobSpec {
  runDir: string;
  checkpoint: string;
  /** A family name of ml/models/registry.ts, or absent to detect it from the checkpoint. */
  family?: string;
  classNames: string[];
  train: LabelledPatch[];
  val: LabelledPatch[];
  settings: Partial<TrainSettings>;
  resume?: boolean;
  /** Recorded in the run's config.json: where the data came from. */
  project: string;
  /** Recorded in the run's config.json: the labelled patches' scale, at which cells are later classified. */
  scale?: TrainingScale;
}

/** The scale of a training set's labelled patches; cells are classified at the same one. */
export interface TrainingScale {
  /** Median side of the labelled patches in micrometres, or null when no labelled image has an mpp. */
  patchUm: number | null;
  /** Median side in pixels. */
  patchPx: number;
}

export type SplitMetrics = ClassificationMetrics | null;

export interface RunMetrics {
  classNames: string[];
  steps: number;
  seconds: number;
  finalTrainLoss: number;
  trainableParameters: number;
  train: SplitMetrics;
  val: SplitMetrics;
  test: SplitMetrics;
  /** Predicted class of each validation item, in order (the confusion matrix's cells open them). */
  valPredicted: number[];
  /** Which InferenceEngine computed train/val/test metrics (full precision), and its detail line. */
  evaluation?: { engine: 'onnx' | 'onnx-int8' | 'tfjs'; detail: string };
  /**
   * The int8 graph's agreement with full precision on the run's labelled items, measured at the
   * end of training; null when not measured (no ONNX Runtime, or the int8 graph did not open).
   */
  int8?: Int8Check | null;
  /** Why int8 was not measured, when `int8` is null. */
  int8Note?: string;
}

export interface TrainJobResult {
  status: 'completed';
  runDir: string;
  steps: number;
  metrics: RunMetrics;
  /** Each validation label (its item key) with its true and predicted class index. */
  validation: { key: string; label: number; predicted: number }[];
}

export interface ClassifyTarget {
  imageId: number;
  path: string;
  kind: 'slide' | 'image';
  width: number;
  height: number;
  /**
   * Cell mode: the detected cells to classify, each as a cell-centred square of `cellSide`
   * level-0 pixels (the training scale); without cells a slide is classified as a grid.
   */
  cells?: { id: number; x: number; y: number }[];
  cellSide?: number;
}

export interface ClassifyJobSpec {
  runDir: string;
  images: ClassifyTarget[];
  /** Slides: grid patch side and stride in level-0 pixels. */
  patchSize: number;
  stride?: number;
  /** Slides: least fraction of a patch on tissue for it to be classified. */
  minTissue?: number;
  /** Images per engine call (default: the engine's own largest batch). */
  batchSize?: number;
  engine?: EngineChoice;
  /** Threads reading and preprocessing patches beside the engine (default from the cores; 0: none). */
  prepThreads?: number;
}

export interface PatchPrediction {
  imageId: number;
  /** Cell mode: the cell the box is centred on. */
  cellId?: number;
  box: Box;
  classIndex: number;
  probabilities: number[];
  entropy: number;
}

export interface ClassifyJobResult {
  /** The predictions not already streamed to main in `predictions` messages (all of them when none were). */
  predictions: PatchPrediction[];
  /** The engine that classified and why (e.g. int8 because the run's stored check passed); absent in older results. */
  engine?: { name: 'onnx' | 'onnx-int8' | 'tfjs'; detail: string; reason: string };
  /** Patches classified, streamed or not. */
  count: number;
  /** Seconds from the first patch read to the last prediction (engine creation excluded). */
  seconds: number;
  /** Of those, the engine running, and the engine waiting for preprocessing; and the threads preprocessing. */
  pipeline?: { inferSeconds: number; waitSeconds: number; threads: number };
  /** Per slide: patches in the grid and patches kept by the tissue mask. */
  grids: { imageId: number; gridPatches: number; tissuePatches: number }[];
}

/** The paper's grid, with the options `cytotune experiment` parses (typed, never argv). */
export interface ExperimentJobSpec {
  options: ExperimentOptions;
  backend?: BackendName;
}

export interface ExperimentJobResult {
  status: 'complete' | 'budget' | 'interrupted';
  outDir: string;
  total: number;
  done: number;
  summary: string;
  figures: string[];
}

/** Cell detection on one image into a detection run; cells stream back tile by tile. */
export interface DetectJobSpec {
  detectionRunId: number;
  imageId: number;
  path: string;
  /** The detector's parameters in micrometres (slides/cells/params.ts DetectionParams). */
  params: Record<string, unknown>;
  level: number;
  /** Continue after the tiles already stored. */
  resumeFrom?: DetectionCheckpoint;
}

export interface DetectJobResult {
  cells: number;
  tilesTotal: number;
  tilesSkipped: number;
  umPerPx: number;
  /** The image has no microns per pixel: sizes assumed the detector's fallback. */
  mppAssumed: boolean;
}

/**
 * A few real training steps (LoRA) or feature batches (linear probe) of a planned run, timed, so
 * the estimate shown before Start is this computer's speed on this model and these images.
 */
/** Steps or feature batches a speed check runs: one warm-up, then the timed ones. */
export const SPEED_MARKS = 3;

export interface SpeedJobSpec {
  modelId: number;
  checkpoint: string;
  family?: string;
  classNames: string[];
  /** The first images of the plan: enough for the warm-up and the timed part. */
  train: LabelledPatch[];
  settings: Partial<TrainSettings>;
}

export interface SpeedJobResult {
  modelId: number;
  method: 'lora' | 'linear';
  /** Images per second over the timed part (after a warm-up step or batch). */
  imagesPerSecond: number;
  images: number;
  seconds: number;
  /** The computer it was measured on: a project opened elsewhere measures again. */
  host: string;
  backend: string;
}

export interface JobSpecs {
  train: TrainJobSpec;
  speed: SpeedJobSpec;
  classify: ClassifyJobSpec;
  experiment: ExperimentJobSpec;
  detect: DetectJobSpec;
}

export interface JobResults {
  train: TrainJobResult;
  speed: SpeedJobResult;
  classify: ClassifyJobResult;
  experiment: ExperimentJobResult;
  detect: DetectJobResult;
}

export type JobKind = keyof JobSpecs;

/** A job to start: its kind and the spec of that kind. */
export type JobStart = { [K in JobKind]: { kind: K; spec: JobSpecs[K] } }[JobKind];
/** A finished job: its kind and the result of that kind. */
export type JobOutcome = { [K in JobKind]: { kind: K; result: JobResults[K] } }[JobKind];

export interface WorkerProgress {
  step: number;
  total: number;
  phase?: string;
  loss?: number;
  lr?: number;
  accuracy?: number;
  imagesPerSecond?: number;
  etaSeconds?: number;
}

export interface WorkerError {
  /** 'cancelled' when asked to stop; 'invalid-input', 'checkpoint', 'data', 'internal', ... otherwise. */
  kind: string;
  message: string;
}

export type ToWorker = { type: 'start'; jobId: string; job: JobStart } | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; jobId: string; progress: WorkerProgress }
  | { type: 'log'; jobId: string; level: 'info' | 'warn'; message: string }
  /** A detect job's finished tile: its cells and the checkpoint past it, stored together by main. */
  | { type: 'cells'; jobId: string; tile: number; cells: DetectedCell[]; checkpoint: DetectionCheckpoint }
  /** A classify job's next predictions, in order: main stores each message in one transaction. */
  | { type: 'predictions'; jobId: string; predictions: PatchPrediction[] }
  | { type: 'result'; jobId: string; outcome: JobOutcome }
  | { type: 'error'; jobId: string; error: WorkerError };

/** Lets through the first and last updates and at most one every `intervalMs` between. */
export function progressThrottle(intervalMs = 250): (p: WorkerProgress) => boolean {
  let last = -Infinity;
  return (p) => {
    const now = Date.now();
    if (p.step === 0 || p.step >= p.total || now - last >= intervalMs) {
      last = now;
      return true;
    }
    return false;
  };
}

/** The one reply of a model inspection process (src/worker/inspect.ts): a description or why not. */
export type InspectReply =
  { ok: true; value: { family: string; config: Record<string, unknown>; parameterCount: number } } | { ok: false; message: string };
