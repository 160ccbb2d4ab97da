// What a training run and an experiment are, and the paper's defaults: the one home of every
// hyper-parameter (CFT lora.py / run_utils.py / main.py). The CLI, the API schema, the job
// specs, the experiment grid and the renderer's forms all read their defaults from here.
import type { EngineChoice } from './jobs';

/** The attention projections LoRA can adapt. */
export type ProjectionName = 'q' | 'k' | 'v' | 'o';
export const PROJECTIONS: readonly ProjectionName[] = ['q', 'k', 'v', 'o'];

export type Method = 'linear' | 'lora';

export interface LoraOptions {
  rank?: number;
  alpha?: number;
  /** Dropout probability on the LoRA branch input (training only). */
  dropout?: number;
  targets?: ProjectionName[];
  /** Block indices, or 'all'. */
  blocks?: number[] | 'all';
}

export interface TrainSettings {
  method: Method;
  lora: LoraOptions;
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  batchSize: number;
  /** Images per forward/backward pass (gradient accumulation when < batchSize). */
  microBatchSize: number;
  warmupSteps: number;
  /** LoRA: steps = warmup + nIters * shots (paper n_iters = 100). */
  nIters: number;
  /** Shots per class the training set was sampled with; null when the whole set is used. */
  shots: number | null;
  /** Overrides the computed number of optimiser steps (LoRA). */
  steps: number | null;
  minLr: number;
  seed: number;
  /** Linear probe: epochs over the cached features (paper: 100). */
  epochs: number;
  /** Linear probe: embed the training images through the augmentation once (as the paper). */
  probeAugment: boolean;
  /**
   * Training images through the paper's augmentation (RandomResizedCrop + flip, data/transforms.ts);
   * false gives them the evaluation transform (equality checks, pre-processed tensors).
   */
  augment: boolean;
  /** Checkpoint every N steps (0: only on cancel). */
  checkpointEvery: number;
  /** LoRA: wasm-friendly custom gradients (adapters/fastGrad.ts); same results, faster backward. */
  fastGradients: boolean;
  /**
   * LoRA: gradient worker processes (data parallel, training/parallel/plan.ts). 0 = automatic:
   * one per core on the wasm backend for real-size models whose checkpoint path is known, else 1.
   */
  processes: number;
}

/** The paper's protocol: one training run's settings, and the experiment grid's axes. */
export interface GridDefaults {
  methods: Method[];
  shots: number[];
  seeds: number[];
  lrs: number[];
  /** Train / val / test ratios for a single ImageFolder. */
  split: [number, number, number];
  /** Folder names hold the class tree's levels joined by this (e.g. abnormal__lsil). */
  separator: string;
}

/** The paper's study (`cytotune study paper`): what differs from the grid defaults per experiment. */
export interface StudyDefaults {
  /** HiCervix is trained at this level of its class tree (the seed's `--level_launch level_3`, 25 classes). */
  hicervixLevel: number;
  /**
   * Experiment 3 (Figure 2): CLIP ViT-L/14, LoRA on HiCervix by percentage of the training split
   * (CFT README: r 16 on q,k,v,o, lr 1e-3; the launch script shows only 10 %, so the list is ours).
   */
  percent: { percents: number[]; lrs: number[]; rank: number; targets: ProjectionName[] };
}

export const PAPER_DEFAULTS: {
  readonly train: Readonly<TrainSettings>;
  readonly grid: Readonly<GridDefaults>;
  readonly study: Readonly<StudyDefaults>;
} = {
  train: {
    method: 'lora',
    lora: { rank: 2, alpha: 1, dropout: 0.25, targets: ['q', 'v'], blocks: 'all' },
    lr: 1e-3,
    weightDecay: 1e-2,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    batchSize: 32,
    microBatchSize: 32,
    warmupSteps: 50,
    nIters: 100,
    shots: null,
    steps: null,
    minLr: 1e-6,
    seed: 1,
    epochs: 100,
    probeAugment: true,
    augment: true,
    checkpointEvery: 50,
    fastGradients: true,
    processes: 0,
  },
  grid: {
    methods: ['linear', 'lora'],
    shots: [1, 2, 4, 8, 16, 50],
    seeds: [1, 2, 3],
    lrs: [1e-2, 3e-3, 1e-3, 3e-4, 1e-4],
    split: [70, 10, 20],
    separator: '__',
  },
  study: {
    hicervixLevel: 3,
    percent: { percents: [10, 25, 50, 100], lrs: [1e-3], rank: 16, targets: ['q', 'k', 'v', 'o'] },
  },
};

export class SettingsError extends Error {
  readonly kind = 'invalid-settings';
}

export function resolveSettings(partial: Partial<TrainSettings>): TrainSettings {
  const d = PAPER_DEFAULTS.train;
  // Keys given as undefined (e.g. absent command-line options) keep their defaults.
  const defined = <T extends object>(o: T | undefined) =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const s = { ...d, ...defined(partial), lora: { ...d.lora, ...defined(partial.lora) } };
  const positive = (v: number, name: string) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new SettingsError(`${name} must be a positive number, got ${v}`);
  };
  positive(s.lr, 'lr');
  positive(s.batchSize, 'batch size');
  positive(s.microBatchSize, 'micro-batch size');
  positive(s.epochs, 'epochs');
  // 0 steps is a run that trains nothing: it writes the initial adapter and head (the paper's shots = 0).
  if (s.steps !== null && !(Number.isInteger(s.steps) && s.steps >= 0))
    throw new SettingsError(`steps must be 0 or a positive integer, got ${s.steps}`);
  if (!Number.isInteger(s.seed)) throw new SettingsError(`seed must be an integer, got ${s.seed}`);
  if (!Number.isInteger(s.processes) || s.processes < 0)
    throw new SettingsError(`processes must be 0 (automatic) or a positive integer, got ${s.processes}`);
  return { ...s, microBatchSize: Math.min(s.microBatchSize, s.batchSize) };
}

/**
 * LoRA run length: the paper's warm-up + n_iters x shots, or ~n_iters epochs for a full set. No
 * iterations means no training, warm-up included: the paper's code runs nothing at shots = 0
 * (total_iters = 0), and `--iters 0` writes the initial state.
 */
export function loraSteps(s: TrainSettings, datasetSize: number): number {
  if (s.steps !== null) return s.steps;
  const perEpoch = Math.ceil(datasetSize / s.batchSize);
  const body = s.nIters * (s.shots ?? perEpoch);
  return body === 0 ? 0 : s.warmupSteps + body;
}

/** Protocol settings of an experiment that change results; identical for every cell of a folder. */
export interface Protocol {
  /** LoRA: steps = warmup + iters x shots (few-shot) or warmup + iters x batches per epoch (percent). */
  iters: number;
  warmup: number;
  /** Linear probe: epochs over the cached features. */
  epochs: number;
  batch: number;
  rank: number;
  alpha: number;
  targets: ProjectionName[];
  /** Hierarchical labels: the level trained at (null for flat classes). */
  level: number | null;
  /** Embed the linear probe's training images through the augmentation once (as the paper). */
  probeAugment: boolean;
}

/** The paper's protocol in the experiment grid's terms. */
export const PAPER_PROTOCOL: Protocol = {
  iters: PAPER_DEFAULTS.train.nIters,
  warmup: PAPER_DEFAULTS.train.warmupSteps,
  epochs: PAPER_DEFAULTS.train.epochs,
  batch: PAPER_DEFAULTS.train.batchSize,
  rank: PAPER_DEFAULTS.train.lora.rank!,
  alpha: PAPER_DEFAULTS.train.lora.alpha!,
  targets: PAPER_DEFAULTS.train.lora.targets!,
  level: null,
  probeAugment: PAPER_DEFAULTS.train.probeAugment,
};

export interface ExperimentOptions {
  data: string;
  out: string;
  checkpoints: { label: string; path: string }[];
  methods: Method[];
  shots: number[];
  percents: number[];
  seeds: number[];
  lrs: number[];
  /** Seconds; stop scheduling new cells once this much time has passed. */
  budgetSeconds: number | null;
  /** Train / val / test ratios for a single ImageFolder. */
  split: [number, number, number];
  splitSeed: number;
  /** JSON class tree (parsed), or null for folder names (hierarchical when they contain `separator`). */
  tree: unknown | null;
  separator: string;
  protocol: Protocol;
  /** Images per forward/backward pass for LoRA (gradient accumulation up to `batch`). */
  microBatch: number;
  family?: string;
  heads?: number;
  /** The engine of the linear probe's feature extraction (default auto: ONNX Runtime where installed). */
  engine?: EngineChoice;
  /** Override the checkpoint's activation (e.g. an open_clip model trained without QuickGELU). */
  activation?: 'gelu' | 'quick_gelu';
}

/** An experiment with the paper's grid and protocol wherever `given` says nothing. */
export function experimentOptions(
  given: Pick<ExperimentOptions, 'data' | 'out' | 'checkpoints'> & Partial<ExperimentOptions>,
): ExperimentOptions {
  const g = PAPER_DEFAULTS.grid;
  const protocol = { ...PAPER_PROTOCOL, ...given.protocol };
  return {
    methods: [...g.methods],
    // With percentages only, no few-shot cells.
    shots: given.percents?.length ? [] : [...g.shots],
    percents: [],
    seeds: [...g.seeds],
    lrs: [...g.lrs],
    budgetSeconds: null,
    split: [...g.split],
    splitSeed: 0,
    tree: null,
    separator: g.separator,
    microBatch: protocol.batch,
    ...given,
    protocol,
  };
}
