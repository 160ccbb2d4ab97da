// One training run, start to finish, into its run folder: load the base model, train LoRA or
// a linear probe with the paper's protocol, save adapter and head, evaluate on the train,
// validation and test items, write config.json and metrics.json. Used by `cytotune train`,
// the workstation's training jobs and the experiment grid, so all three produce the same runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { evaluateItems } from '../eval/evaluate';
import { saveAdapter, type AdapterMetadata } from '../adapters/adapterFile';
import { sha256File } from '../adapters/baseIdentity';
import { resolveLoraSpec } from '../adapters/loraConfig';
import type { FamilyName } from '../models/encoder';
import { loadEncoder } from '../models/loadEncoder';
import type { LabeledItem } from '../data/fewShot';
import { saveHead } from '../adapters/headFile';
import { ImageBatcher } from '../data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor } from '../data/imagePipeline';
import { trainLinearProbe } from './linearProbe';
import { trainLora, type TrainOutcome } from './loraTrainer';
import { RUN_FILES, writeJson, type RunConfig } from './runDir';
import type { LoopHooks } from './trainingLoop';
import { loraSteps, type TrainSettings } from '../../shared/training';
import type { BackendName } from '../../shared/jobs';
import type { RunMetrics, SplitMetrics } from '../../shared/jobs';
import type { RgbImage } from '../../shared/image';

export interface TrainRunRequest extends LoopHooks {
  outDir: string;
  checkpoint: string;
  family?: FamilyName;
  heads?: number;
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
  const encoder = loadEncoder(r.checkpoint, { family: r.family, heads: r.heads });
  try {
    const sha = await sha256File(r.checkpoint);
    const pipelineOptions = pipelineOptionsFor(encoder.config);
    const batcher = new ImageBatcher(pipelineFromOptions(pipelineOptions), undefined, r.decode);
    const spec = s.method === 'lora' ? resolveLoraSpec(s.lora, encoder.config) : null;
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
    };
    await writeJson(join(r.outDir, RUN_FILES.config), config);
    r.log?.(
      `training ${s.method} on ${r.trainItems.length} images, ${r.classNames.length} classes (${r.classNames.join(', ')}), ${totalSteps} steps, backend ${backend.candidate}`,
    );

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
      onProgress: r.onProgress,
      // Lets LoRA gradient worker processes load the model themselves (settings.processes).
      source: { kind: 'checkpoint' as const, path: r.checkpoint, family: r.family, heads: r.heads },
    };
    const outcome: TrainOutcome = s.method === 'lora' ? await trainLora(input) : await trainLinearProbe(input);
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
      let valPredicted: number[] = [];
      const evalOf = async (items: LabeledItem[], keep = false): Promise<SplitMetrics> => {
        if (items.length === 0) return null;
        const { predictions, ...m } = await evaluateItems(encoder, model, batcher, items, { batchSize: s.microBatchSize });
        if (keep) valPredicted = predictions.predicted;
        return m;
      };
      const metrics: RunMetrics = {
        classNames: r.classNames,
        steps: outcome.step,
        seconds: (performance.now() - started) / 1000,
        finalTrainLoss: outcome.lastLoss,
        trainableParameters: model.trainableParameterCount(),
        train: await evalOf(r.trainItems),
        val: await evalOf(r.valItems, true),
        test: await evalOf(r.testItems),
        valPredicted,
      };
      await writeJson(join(r.outDir, RUN_FILES.metrics), metrics);
      await writeJson(join(r.outDir, RUN_FILES.config), { ...config, trainableParameters: metrics.trainableParameters });
      return { status: 'completed', step: outcome.step, totalSteps, metrics };
    } finally {
      model.dispose();
    }
  } finally {
    encoder.dispose();
  }
}
