// Training settings with the paper's defaults (CFT lora.py / run_utils.py), all overridable.
import { createHash } from 'node:crypto';
import type { LoraOptions } from '../adapters/loraConfig';
import type { LabeledItem } from '../data/fewShot';

export interface TrainSettings {
  method: 'lora' | 'linear';
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
  /** Checkpoint every N steps (0: only on cancel). */
  checkpointEvery: number;
  /** LoRA: wasm-friendly custom gradients (lora/fastGrad.ts); same results, faster backward. */
  fastGradients: boolean;
  /**
   * LoRA: gradient worker processes (data parallel, parallel/plan.ts). 0 = automatic: one per core
   * on the wasm backend for real-size models whose checkpoint path is known, else 1. Same results.
   */
  processes: number;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
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
  checkpointEvery: 50,
  fastGradients: true,
  processes: 0,
};

export function resolveSettings(partial: Partial<TrainSettings>): TrainSettings {
  // Keys given as undefined (e.g. absent command-line options) keep their defaults.
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const s = { ...DEFAULT_TRAIN_SETTINGS, ...defined(partial), lora: { ...DEFAULT_TRAIN_SETTINGS.lora, ...defined(partial.lora) } };
  const positive = (v: number, name: string) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new SettingsError(`${name} must be a positive number, got ${v}`);
  };
  positive(s.lr, 'lr');
  positive(s.batchSize, 'batch size');
  positive(s.microBatchSize, 'micro-batch size');
  positive(s.epochs, 'epochs');
  if (s.steps !== null) positive(s.steps, 'steps');
  if (!Number.isInteger(s.seed)) throw new SettingsError(`seed must be an integer, got ${s.seed}`);
  if (!Number.isInteger(s.processes) || s.processes < 0) throw new SettingsError(`processes must be 0 (automatic) or a positive integer, got ${s.processes}`);
  return { ...s, microBatchSize: Math.min(s.microBatchSize, s.batchSize) };
}

export class SettingsError extends Error {
  readonly kind = 'invalid-settings';
}

/** LoRA run length: the paper's warm-up + n_iters x shots, or ~n_iters epochs for a full set. */
export function loraSteps(s: TrainSettings, datasetSize: number): number {
  if (s.steps !== null) return s.steps;
  const perEpoch = Math.ceil(datasetSize / s.batchSize);
  return s.warmupSteps + s.nIters * (s.shots ?? perEpoch);
}

/** Stable identity of a run: settings that change the result, and the exact training items. */
export function runFingerprint(s: TrainSettings, items: LabeledItem[], extra: unknown): string {
  const { microBatchSize: _m, checkpointEvery: _c, fastGradients: _f, processes: _p, ...relevant } = s;
  const h = createHash('sha256');
  h.update(JSON.stringify({ relevant, extra }));
  for (const it of items) h.update(`${it.label}\t${it.path}\n`);
  return h.digest('hex');
}
