// OUT/experiment.json: what every cell of an output folder shares (protocol, training classes)
// and which file each model name stands for (by SHA-256). A rerun may add models, methods,
// shots, percentages, seeds or learning rates, but not change the protocol or swap a model's
// file, since results.csv would then mix two experiments.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../adapters/safetensorsIo';
import type { EncoderConfig } from '../models/encoder';
import type { Protocol } from '../../shared/training';

export const EXPERIMENT_FILE = 'experiment.json';

export interface ModelRecord {
  path: string;
  sha256: string;
  family: EncoderConfig['family'];
  width: number;
  depth: number;
  outputDim: number;
  imageSize: number;
}

export interface ExperimentRecord {
  format: 'cytotune-experiment/1';
  data: string;
  protocol: Protocol;
  classNames: string[];
  models: Record<string, ModelRecord>;
}

export class ExperimentMismatchError extends Error {
  readonly kind = 'experiment-mismatch';
}

export async function readExperiment(outDir: string): Promise<ExperimentRecord | null> {
  const path = join(outDir, EXPERIMENT_FILE);
  if (!existsSync(path)) return null;
  const rec = JSON.parse(await readFile(path, 'utf8')) as ExperimentRecord;
  if (rec.format !== 'cytotune-experiment/1')
    throw new ExperimentMismatchError(`${path} is not a CytoTune experiment file; use another --out`);
  return rec;
}

export async function writeExperiment(outDir: string, rec: ExperimentRecord): Promise<void> {
  await writeFileAtomic(join(outDir, EXPERIMENT_FILE), new TextEncoder().encode(JSON.stringify(rec, null, 2) + '\n'));
}

/** Throws when `now` cannot continue the experiment recorded in `before`. */
export function checkCompatible(
  before: ExperimentRecord,
  protocol: Protocol,
  classNames: string[],
  models: Record<string, { sha256: string; path: string }>,
): void {
  for (const key of Object.keys(protocol) as (keyof Protocol)[]) {
    if (JSON.stringify(before.protocol[key]) !== JSON.stringify(protocol[key])) {
      throw new ExperimentMismatchError(
        `this output folder was started with ${key} = ${JSON.stringify(before.protocol[key])}, now ${JSON.stringify(protocol[key])}; rerun with the same setting or use a new --out`,
      );
    }
  }
  if (JSON.stringify(before.classNames) !== JSON.stringify(classNames)) {
    throw new ExperimentMismatchError(
      `this output folder was started with classes ${before.classNames.join(', ')}, now ${classNames.join(', ')}; use a new --out`,
    );
  }
  for (const [label, m] of Object.entries(models)) {
    const prev = before.models[label];
    if (prev && prev.sha256 !== m.sha256) {
      throw new ExperimentMismatchError(
        `model "${label}" was ${prev.path} (sha256 ${prev.sha256.slice(0, 12)}...) in the first run, now ${m.path} is a different file; name it differently (--checkpoint NAME=FILE) or use a new --out`,
      );
    }
  }
}
