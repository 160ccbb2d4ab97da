// The whole plan of a study before anything trains (`cytotune study paper --dry-run`): for each
// part, the split it would use (OUT/.../split.json when a run made one, else made now in memory,
// not written), the cells of its grid minus those already in results.csv, and per (model,
// method, shots or percentage) the optimiser steps, the images through the encoder and the time
// on this machine (studyEstimate.ts). Checkpoint headers are read, never their weights.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointConfig } from '../onnx/checkpointConfig';
import type { EncoderConfig } from '../models/encoder';
import { makeSplit, resolveSplit, SPLIT_FILE } from './dataSplit';
import { buildGrid, cellData, cellKey, regimeKey, type Cell } from './grid';
import { labelView } from './levelLabels';
import { finishedKeys, readResults, RESULTS_FILE } from './resultsCsv';
import { cellSettings } from './runCell';
import { costKey, type CostRequest, type ModelCost } from './studyEstimate';
import type { StudyPart } from './paperStudy';
import { loraSteps } from '../../shared/training';

export interface PlanGroup {
  part: string;
  model: string;
  method: 'linear' | 'lora';
  regime: string;
  /** Cells of the group (seeds x learning rates) and how many are already done. */
  cells: number;
  done: number;
  /** Optimiser steps of one cell, and training images of one cell. */
  stepsPerCell: number;
  trainImages: number;
  /** Images one cell embeds for evaluation (LoRA: val + test; linear: features, once per model). */
  evalImages: number;
  /** Seconds for the cells still to run; null when the cost is unknown. */
  seconds: number | null;
}

export interface PartPlan {
  part: StudyPart;
  groups: PlanGroup[];
  classes: number;
  images: { train: number; val: number; test: number };
  /** An error that stops this part (bad dataset layout, unreadable checkpoint), if any. */
  error: string | null;
}

/** The encoder configurations and LoRA settings a plan needs costs for. */
export function costRequests(parts: StudyPart[], configs: Map<string, EncoderConfig>): CostRequest[] {
  const out = new Map<string, CostRequest>();
  for (const p of parts) {
    if (!p.options) continue;
    for (const c of p.options.checkpoints) {
      const config = configs.get(c.path);
      if (!config) continue;
      const r = { config, rank: p.options.protocol.rank, targets: p.options.protocol.targets };
      out.set(costKey(r), r);
    }
  }
  return [...out.values()];
}

/** Header-only configurations of every checkpoint of the study (errors are reported per part). */
export function readConfigs(parts: StudyPart[]): { configs: Map<string, EncoderConfig>; errors: Map<string, string> } {
  const configs = new Map<string, EncoderConfig>();
  const errors = new Map<string, string>();
  for (const p of parts)
    for (const c of p.options?.checkpoints ?? []) {
      if (configs.has(c.path) || errors.has(c.path)) continue;
      try {
        configs.set(c.path, checkpointConfig(c.path));
      } catch (err) {
        errors.set(c.path, (err as Error).message.split('\n')[0]);
      }
    }
  return { configs, errors };
}

export async function planPart(part: StudyPart, configs: Map<string, EncoderConfig>, costs: Map<string, ModelCost>): Promise<PartPlan> {
  const empty = { part, groups: [], classes: 0, images: { train: 0, val: 0, test: 0 } };
  const o = part.options;
  if (!o) return { ...empty, error: null };
  let split;
  let labels;
  try {
    split = existsSync(join(o.out, SPLIT_FILE))
      ? (await resolveSplit(o.data, o.out, o.split, o.splitSeed)).split
      : await makeSplit(o.data, o.split, o.splitSeed);
    labels = labelView(split.classNames, o.tree, o.separator, o.protocol.level);
  } catch (err) {
    return { ...empty, error: (err as Error).message };
  }
  const train = labels.relabel(split.train);
  const val = labels.relabel(split.val);
  const test = labels.relabel(split.test);
  const numClasses = labels.classNames.length;
  const done = finishedKeys(await readResults(join(o.out, RESULTS_FILE)));
  const cells = buildGrid({
    models: o.checkpoints.map((c) => c.label),
    methods: o.methods,
    shots: o.shots,
    percents: o.percents,
    seeds: o.seeds,
    lrs: o.lrs,
  });
  const groups = new Map<string, PlanGroup>();
  const featuresCounted = new Set<string>();
  for (const cell of cells) {
    const ck = o.checkpoints.find((c) => c.label === cell.model)!;
    const config = configs.get(ck.path);
    const cost = config ? costs.get(costKey({ config, rank: o.protocol.rank, targets: o.protocol.targets })) : undefined;
    const data = cellData(cell.regime, cell.seed, train, val, numClasses);
    const s = cellSettings(cell, o.protocol, o.microBatch);
    const batches = Math.ceil(data.train.length / s.batchSize);
    const steps = cell.method === 'lora' ? loraSteps(s, data.train.length) : s.epochs * batches;
    const isDone = done.has(cellKey(cell));
    // Features of all three splits, once per model and folder (the cache), for its linear cells.
    const featureKey = `${o.out}|${cell.model}`;
    const features =
      cell.method === 'linear' && !featuresCounted.has(featureKey) && !existsSync(join(o.out, 'features', `${cell.model}.safetensors`));
    if (cell.method === 'linear') featuresCounted.add(featureKey);
    const evalImages = cell.method === 'lora' ? data.val.length + test.length : features ? train.length + val.length + test.length : 0;
    const seconds = isDone || !cost ? (cost ? 0 : null) : cellSeconds(cell, steps, data.train.length, batches, evalImages, cost);
    const key = `${cell.model}|${cell.method}|${regimeKey(cell.regime)}`;
    const g = groups.get(key) ?? {
      part: part.id,
      model: cell.model,
      method: cell.method,
      regime: regimeKey(cell.regime).replace('=', ' '),
      cells: 0,
      done: 0,
      stepsPerCell: steps,
      trainImages: data.train.length,
      evalImages: 0,
      seconds: 0,
    };
    g.cells += 1;
    g.done += isDone ? 1 : 0;
    g.evalImages = Math.max(g.evalImages, evalImages);
    g.seconds = g.seconds === null || seconds === null ? null : g.seconds + seconds;
    groups.set(key, g);
  }
  return {
    part,
    groups: [...groups.values()],
    classes: numClasses,
    images: { train: train.length, val: val.length, test: test.length },
    error: null,
  };
}

/** LoRA: every step trains its batch (n / batches images on average); linear: features only (the head is negligible). */
function cellSeconds(cell: Cell, steps: number, n: number, batches: number, evalImages: number, cost: ModelCost): number {
  const forward = evalImages * cost.forwardPerImage;
  if (cell.method === 'linear') return forward;
  return steps * ((n / Math.max(1, batches)) * cost.trainPerImage + cost.trainPerStep) + forward;
}
