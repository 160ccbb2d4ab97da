// A training run's folder: config.json (everything needed to reproduce and to predict),
// adapter.safetensors (LoRA runs), head.safetensors, metrics.json, checkpoint.safetensors,
// train-log.csv (loss and learning rate of every step) and model-card.md (what a reader needs).
// File formats only (no tfjs): the app core reads run folders too; trainedModel.ts loads them.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../adapters/safetensorsIo';
import { join } from 'node:path';
import type { LoraSpec } from '../adapters/loraConfig';
import type { EncoderConfig } from '../models/encoder';
import type { PipelineOptions } from '../data/imagePipeline';
import type { TrainSettings } from '../../shared/training';
import type { RunMetrics, TrainingScale } from '../../shared/jobs';

export const RUN_FILES = {
  config: 'config.json',
  adapter: 'adapter.safetensors',
  head: 'head.safetensors',
  metrics: 'metrics.json',
  checkpoint: 'checkpoint.safetensors',
  log: 'train-log.csv',
  card: 'model-card.md',
} as const;

export interface RunConfig {
  format: 'cytotune-run/1';
  method: 'lora' | 'linear';
  checkpoint: string;
  checkpointSha256: string;
  encoder: EncoderConfig;
  classNames: string[];
  data: { train: string; val: string | null; test: string | null; trainImages: number; valImages: number; testImages: number };
  settings: TrainSettings;
  lora: LoraSpec | null;
  totalSteps: number;
  pipeline: PipelineOptions;
  backend: string;
  trainableParameters?: number;
  /** The attention head count used and why (checkpoints do not record it; models/headCount.ts). */
  heads?: { value: number; source: EncoderConfig['headsSource']; why: string };
  /** Where the starting adapter and head came from (--init-adapter / --init-head), else seeded. */
  init?: { adapter: string | null; head: string | null };
  /** The labelled patches' scale (workstation runs): cells are classified as squares of this side. */
  scale?: TrainingScale;
}

export class RunDirError extends Error {
  readonly kind = 'invalid-run';
}

/** Atomically (temporary file, flush, rename): a full disk never leaves a 0-byte or half config.json. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, Buffer.from(JSON.stringify(value, null, 2) + '\n'));
}

export async function readRunConfig(runDir: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(join(runDir, RUN_FILES.config), 'utf8');
  } catch {
    throw new RunDirError(`${runDir}: not a training run (no ${RUN_FILES.config}); pass the --out folder of a finished 'cytotune train'`);
  }
  const cfg = JSON.parse(text) as RunConfig;
  if (cfg.format !== 'cytotune-run/1') throw new RunDirError(`${runDir}: ${RUN_FILES.config} is not a CytoTune run configuration`);
  return cfg;
}

/** The run's metrics.json, or null when it has none yet (or an unreadable one: metrics are optional to predict). */
export async function readRunMetrics(runDir: string): Promise<RunMetrics | null> {
  try {
    return JSON.parse(await readFile(join(runDir, RUN_FILES.metrics), 'utf8')) as RunMetrics;
  } catch {
    return null;
  }
}
