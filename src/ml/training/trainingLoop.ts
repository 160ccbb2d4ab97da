// The optimiser loop shared by LoRA training and the linear probe: batches from the seeded
// sampler, gradient accumulation over micro-batches, AdamW with the paper's schedule,
// progress, cancellation, and checkpoint/resume. A step's kernels may all be synchronous
// (wasm, cpu, cached batches): the loop yields to the event loop after every step, so a cancel
// message, Ctrl-C or a progress send is handled at once, and it checks the abort signal between
// micro-batches, so a cancel lands within one step (the unfinished step is dropped).
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, type AdamWOptions } from './adamw';
import { EpochSampler } from '../data/epochSampler';
import { accumulate, type MicroResult } from './gradients';
import { learningRateAt, type ScheduleOptions } from './schedule';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type LoopState } from './trainCheckpoint';

export interface TrainProgress {
  /** Optimiser steps completed (1-based after the first step). */
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean cross-entropy of this step's batch. */
  loss: number;
  /** Training accuracy over the current epoch so far (augmented images). */
  accuracy: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface LoopConfig {
  totalSteps: number;
  batchSize: number;
  /** Images per forward/backward; the batch is split and gradients summed when smaller. */
  microBatchSize: number;
  schedule: ScheduleOptions;
  adamw: AdamWOptions;
  seed: number;
  datasetSize: number;
  /** Identifies the run's settings and data; a checkpoint from another run is refused. */
  fingerprint: string;
  checkpointPath?: string;
  /** Save a checkpoint every N steps (0: only when cancelled). */
  checkpointEvery?: number;
  /** Continue from `checkpointPath`. */
  resume?: boolean;
}

export interface LoopHooks {
  onProgress?: (p: TrainProgress) => void;
  /** The linear probe's feature extraction, before its first step: images embedded so far. */
  onFeatures?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface LoopResult {
  status: 'completed' | 'cancelled';
  step: number;
  lastLoss: number;
  /** Per step, mean batch loss, for this session's steps. */
  losses: number[];
}

/**
 * Computes one micro-batch: dataset indices, their positions within the optimiser batch, the
 * step, and the size of the whole batch (the loss divisor, so micro-batches sum to the mean).
 */
export type MicroStep = (indices: number[], sampleIds: number[], step: number, batchSize: number) => Promise<MicroResult>;

export async function runTrainingLoop(vars: tf.Variable[], micro: MicroStep, cfg: LoopConfig, hooks: LoopHooks = {}): Promise<LoopResult> {
  if (!(cfg.microBatchSize >= 1 && cfg.batchSize >= 1)) throw new Error('batch and micro-batch sizes must be >= 1');
  const opt = new AdamW(vars, cfg.adamw);
  const sampler = new EpochSampler(cfg.datasetSize, cfg.batchSize, cfg.seed);
  let state: LoopState = { step: 0, sampler: sampler.state, seed: cfg.seed, epochLoss: 0, epochCorrect: 0, epochSeen: 0 };
  try {
    if (cfg.resume) {
      if (!cfg.checkpointPath || !existsSync(cfg.checkpointPath))
        throw new CheckpointError('checkpoint-invalid', `no checkpoint to resume from at ${cfg.checkpointPath ?? '(none given)'}`);
      state = await loadCheckpoint(cfg.checkpointPath, vars, opt, cfg.fingerprint);
      sampler.state = state.sampler;
    }
    const save = async () => {
      if (cfg.checkpointPath) await saveCheckpoint(cfg.checkpointPath, vars, opt, { ...state, sampler: sampler.state }, cfg.fingerprint);
    };
    const losses: number[] = [];
    const started = performance.now();
    let sessionImages = 0;
    let sessionSteps = 0;
    let lastLoss = NaN;
    const cancelled = async (): Promise<LoopResult> => {
      await save();
      return { status: 'cancelled', step: state.step, lastLoss, losses };
    };
    while (state.step < cfg.totalSteps) {
      if (hooks.signal?.aborted) return await cancelled();
      const before = { state, sampler: sampler.state };
      const epochBefore = sampler.state.epoch;
      const batch = sampler.next();
      if (sampler.state.epoch !== epochBefore) state = { ...state, epochLoss: 0, epochCorrect: 0, epochSeen: 0 };
      let grads: tf.Tensor[] | null = null;
      let lossSum = 0;
      let correct = 0;
      let dropped = false;
      try {
        for (let start = 0; start < batch.length; start += cfg.microBatchSize) {
          if (start > 0 && hooks.signal?.aborted) {
            // Cancelled mid-step: forget this batch, so a resume draws it again.
            state = before.state;
            sampler.state = before.sampler;
            dropped = true;
            break;
          }
          const idx = batch.slice(start, start + cfg.microBatchSize);
          const ids = idx.map((_, i) => start + i);
          const r = await micro(idx, ids, state.step, batch.length);
          grads = accumulate(grads, r.grads);
          lossSum += r.lossSum;
          correct += r.correct;
        }
        if (dropped) continue;
        const lr = learningRateAt(state.step, cfg.schedule);
        opt.apply(grads!, lr);
        lastLoss = lossSum / batch.length;
        losses.push(lastLoss);
        state = {
          ...state,
          step: state.step + 1,
          sampler: sampler.state,
          epochLoss: state.epochLoss + lossSum,
          epochCorrect: state.epochCorrect + correct,
          epochSeen: state.epochSeen + batch.length,
        };
        sessionImages += batch.length;
        sessionSteps += 1;
        const elapsed = (performance.now() - started) / 1000;
        hooks.onProgress?.({
          step: state.step,
          totalSteps: cfg.totalSteps,
          epoch: sampler.state.epoch,
          loss: lastLoss,
          accuracy: state.epochCorrect / state.epochSeen,
          lr,
          imagesPerSecond: sessionImages / Math.max(elapsed, 1e-9),
          etaSeconds: ((cfg.totalSteps - state.step) * elapsed) / sessionSteps,
        });
      } finally {
        if (grads) tfDispose(grads);
      }
      if (cfg.checkpointEvery && state.step % cfg.checkpointEvery === 0 && state.step < cfg.totalSteps) await save();
      // Let the event loop run: the cancel message, timers and the progress just sent.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { status: 'completed', step: state.step, lastLoss, losses };
  } finally {
    opt.dispose();
  }
}

function tfDispose(ts: tf.Tensor[]): void {
  for (const t of ts) if (!t.isDisposed) tf.dispose(t);
}
