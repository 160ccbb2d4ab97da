// One training run, start to finish, into its run folder: load the base model, train LoRA or
// a linear probe with the paper's protocol, save adapter and head, evaluate on the train,
// validation and test items, write config.json, metrics.json, train-log.csv (every step's loss
// and learning rate) and model-card.md. Used by `cytotune train` and the workstation's training
// jobs, so both produce the same runs.
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { saveAdapter, type AdapterMetadata } from '../adapters/adapterFile';
import { sha256File } from '../adapters/baseIdentity';
import { resolveLoraSpec } from '../adapters/loraConfig';
import type { FamilyName } from '../models/encoder';
import { loadEncoder } from '../models/loadEncoder';
import type { VitEncoder } from '../models/vit';
import type { LabeledItem } from '../data/fewShot';
import { saveHead } from '../adapters/headFile';
import { ImageBatcher } from '../data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor, type ImagePipeline } from '../data/imagePipeline';
import { loadInitialState } from './initialState';
import { trainLinearProbe, type LinearProbeInput } from './linearProbe';
import { createInferenceEngine } from '../inference/engine';
import { embedPathsWithEngine } from '../inference/enginePaths';
import { headsExplanation, writeModelCard } from './modelCard';
import { trainLora, type TrainOutcome } from './loraTrainer';
import { evaluateRun } from './runEvaluation';
import { RUN_FILES, writeJson, type RunConfig } from './runDir';
import type { LoopHooks, TrainProgress } from './trainingLoop';
import { loraSteps, type TrainSettings } from '../../shared/training';
import type { BackendName, TrainingScale } from '../../shared/jobs';
import type { RunMetrics } from '../../shared/jobs';
import { describeInt8Check } from '../../shared/int8Check';
import type { RgbImage } from '../../shared/image';

export interface TrainRunRequest extends LoopHooks {
  outDir: string;
  checkpoint: string;
  family?: FamilyName;
  heads?: number;
  activation?: 'gelu' | 'quick_gelu';
  backend?: BackendName;
  classNames: string[];
  trainItems: LabeledItem[];
  valItems: LabeledItem[];
  testItems: LabeledItem[];
  /** Where the items came from, recorded in config.json (folders, or a project and its labels). */
  data: { train: string; val: string | null; test: string | null } & Record<string, unknown>;
  settings: TrainSettings;
  resume?: boolean;
  /** Turns an item's `path` into pixels; default: decode the file (items may instead name slide patches). */
  decode?: (key: string) => Promise<RgbImage>;
  /** Replaces the encoder's pipeline (pre-processed tensors, tensorInput.ts); config.json still records the encoder's. */
  pipeline?: ImagePipeline;
  /** Start from these files instead of the seeded initialisation (initialState.ts). */
  init?: { adapter?: string; head?: string };
  /** Recorded in config.json: the labelled patches' scale (cells are classified at it). */
  scale?: TrainingScale;
  /** Engine of the train/val/test metrics (default auto: ONNX Runtime fp32 where installed). */
  evalEngine?: 'auto' | 'tfjs' | 'onnx';
  /** Measure the int8 agreement check after the evaluation (default true). */
  int8Check?: boolean;
  log?: (line: string) => void;
}

export interface TrainRunOutcome {
  status: 'completed' | 'cancelled';
  step: number;
  totalSteps: number;
  metrics: RunMetrics | null;
}

export async function trainRun(r: TrainRunRequest): Promise<TrainRunOutcome> {
  const s = r.settings;
  const backend = await selectBackend(r.backend ? { only: r.backend } : {});
  const encoder = loadEncoder(r.checkpoint, { family: r.family, heads: r.heads, activation: r.activation });
  try {
    const sha = await sha256File(r.checkpoint);
    const pipelineOptions = pipelineOptionsFor(encoder.config, { augment: s.augment });
    const batcher = new ImageBatcher(r.pipeline ?? pipelineFromOptions(pipelineOptions), undefined, r.decode);
    const spec = s.method === 'lora' ? resolveLoraSpec(s.lora, encoder.config) : null;
    const base = { baseSha256: sha, family: encoder.config.family, width: encoder.config.width, outputDim: encoder.config.outputDim };
    // Read before anything is written: a wrong file fails the run at once.
    const init = await loadInitialState({
      adapterPath: r.init?.adapter,
      headPath: r.init?.head,
      base,
      spec,
      numClasses: r.classNames.length,
    });
    const initKey = r.init?.adapter || r.init?.head ? await initIdentity(r.init) : undefined;
    const totalSteps =
      s.method === 'lora' ? loraSteps(s, r.trainItems.length) : (s.steps ?? s.epochs * Math.ceil(r.trainItems.length / s.batchSize));
    await mkdir(r.outDir, { recursive: true });
    const config: RunConfig = {
      format: 'cytotune-run/1',
      method: s.method,
      checkpoint: r.checkpoint,
      checkpointSha256: sha,
      encoder: encoder.config,
      classNames: r.classNames,
      data: { ...r.data, trainImages: r.trainItems.length, valImages: r.valItems.length, testImages: r.testItems.length },
      settings: s,
      lora: spec,
      totalSteps,
      pipeline: pipelineOptions,
      backend: backend.candidate,
      heads: { value: encoder.config.heads, source: encoder.config.headsSource, why: headsExplanation(encoder.config) },
      init: { adapter: r.init?.adapter ?? null, head: r.init?.head ?? null },
      ...(r.scale ? { scale: r.scale } : {}),
    };
    await writeJson(join(r.outDir, RUN_FILES.config), config);
    const logPath = join(r.outDir, RUN_FILES.log);
    if (!r.resume) writeFileSync(logPath, 'step,loss,lr,accuracy,epoch\n');
    // Every step, full precision (equality checks compare it); a resumed run appends.
    const onProgress = (p: TrainProgress) => {
      appendFileSync(logPath, `${p.step},${p.loss},${p.lr},${p.accuracy},${p.epoch}\n`);
      r.onProgress?.(p);
    };
    r.log?.(
      `training ${s.method} on ${r.trainItems.length} images, ${r.classNames.length} classes (${r.classNames.join(', ')}), ${totalSteps} steps, backend ${backend.candidate}`,
    );
    r.log?.(`model: ${encoder.config.family}, width ${encoder.config.width}, ${encoder.config.depth} blocks; ${config.heads!.why}`);

    const started = performance.now();
    const input = {
      encoder,
      items: r.trainItems,
      numClasses: r.classNames.length,
      batcher,
      settings: s,
      checkpointPath: join(r.outDir, RUN_FILES.checkpoint),
      resume: Boolean(r.resume),
      signal: r.signal,
      onProgress,
      onFeatures: r.onFeatures,
      init,
      initKey,
      // Lets LoRA gradient worker processes load the model themselves (settings.processes).
      source: { kind: 'checkpoint' as const, path: r.checkpoint, family: r.family, heads: r.heads, activation: r.activation },
    };
    const outcome: TrainOutcome = s.method === 'lora' ? await trainLora(input) : await probeOnEngine(input, encoder, sha, r);
    const model = outcome.model;
    if (outcome.execution)
      r.log?.(
        `execution: ${outcome.execution.processes} process(es), micro-batch ${outcome.execution.microBatchSize}; ${outcome.execution.notes.join('; ')}`,
      );
    try {
      if (outcome.status === 'cancelled') return { status: 'cancelled', step: outcome.step, totalSteps, metrics: null };
      const meta: AdapterMetadata = {
        baseSha256: sha,
        family: encoder.config.family,
        width: encoder.config.width,
        classNames: r.classNames,
        preprocessing: pipelineOptions,
      };
      if (model.adapter) await saveAdapter(join(r.outDir, RUN_FILES.adapter), model.adapter, meta);
      await saveHead(join(r.outDir, RUN_FILES.head), model.head, meta);
      const evaluation = await evaluateRun({
        encoder,
        checkpointSha256: sha,
        model,
        batcher,
        splits: { train: r.trainItems, val: r.valItems, test: r.testItems },
        batchSize: s.microBatchSize,
        engine: r.evalEngine,
        int8Check: r.int8Check,
        signal: r.signal,
      });
      r.log?.(`evaluated on ${evaluation.evaluation?.detail}`);
      r.log?.(evaluation.int8 ? describeInt8Check(evaluation.int8, 'labelled items') : `int8 check ${evaluation.int8Note}`);
      const metrics: RunMetrics = {
        classNames: r.classNames,
        steps: outcome.step,
        seconds: (performance.now() - started) / 1000,
        finalTrainLoss: outcome.lastLoss,
        trainableParameters: model.trainableParameterCount(),
        ...evaluation,
      };
      await writeJson(join(r.outDir, RUN_FILES.metrics), metrics);
      const finalConfig = { ...config, trainableParameters: metrics.trainableParameters };
      await writeJson(join(r.outDir, RUN_FILES.config), finalConfig);
      await writeModelCard(r.outDir, finalConfig, metrics);
      return { status: 'completed', step: outcome.step, totalSteps, metrics };
    } finally {
      model.dispose();
    }
  } finally {
    encoder.dispose();
  }
}

/**
 * The linear probe with its features from an InferenceEngine (ONNX Runtime fp32 where installed,
 * the base graph cached by the checkpoint's sha256; the experiment grid's features come the same way).
 */
async function probeOnEngine(input: LinearProbeInput, encoder: VitEncoder, sha: string, r: TrainRunRequest): Promise<TrainOutcome> {
  const engine = await createInferenceEngine({ engine: r.evalEngine ?? 'auto', encoder, weightsId: `sha256:${sha}` });
  r.log?.(`linear-probe features on ${engine.detail}`);
  try {
    return await trainLinearProbe({ ...input, embed: (paths, o) => embedPathsWithEngine(engine, input.batcher, paths, o) });
  } finally {
    await engine.dispose();
  }
}

/** The init files by content (sha256), so a resumed run cannot start over from other values. */
async function initIdentity(init: { adapter?: string; head?: string }): Promise<string> {
  const hash = async (p?: string) => (p ? await sha256File(p) : 'seeded');
  return `${await hash(init.adapter)}:${await hash(init.head)}`;
}
