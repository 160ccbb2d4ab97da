// Training checkpoints: every trainable variable (in our layout, by index), the AdamW moments,
// and the loop state (step, sampler position, seed) with a fingerprint of the run's settings,
// written atomically. Resuming with other settings or data is refused (kind 'checkpoint-mismatch').
import * as tf from '@tensorflow/tfjs-core';
import { readWeightsFile, writeWeightsFile } from '../adapters/safetensorsIo';
import type { AdamW } from './adamw';
import type { SamplerState } from '../data/epochSampler';
import type { HostTensor } from '../adapters/safetensorsIo';

export const CHECKPOINT_FORMAT = 'cytotune-train-checkpoint/1';

export interface LoopState {
  /** Optimiser steps completed. */
  step: number;
  sampler: SamplerState;
  seed: number;
  /** Running totals of the current epoch (for training accuracy). */
  epochLoss: number;
  epochCorrect: number;
  epochSeen: number;
}

export class CheckpointError extends Error {
  constructor(
    readonly kind: 'checkpoint-mismatch' | 'checkpoint-invalid',
    message: string,
  ) {
    super(message);
  }
}

export async function saveCheckpoint(path: string, vars: tf.Variable[], opt: AdamW, state: LoopState, fingerprint: string): Promise<void> {
  const tensors: HostTensor[] = vars.map((v, i) => ({ name: `param.${i}`, shape: v.shape, data: v.dataSync() as Float32Array }));
  tensors.push(...opt.stateTensors());
  await writeWeightsFile(path, tensors, {
    format: CHECKPOINT_FORMAT,
    fingerprint,
    state: JSON.stringify(state),
    adamw_step: String(opt.step),
  });
}

/** Restores variables and optimiser in place and returns the loop state. */
export async function loadCheckpoint(path: string, vars: tf.Variable[], opt: AdamW, fingerprint: string): Promise<LoopState> {
  const { tensors, metadata } = await readWeightsFile(path);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new CheckpointError('checkpoint-invalid', `${path}: not a CytoTune training checkpoint`);
  if (metadata.fingerprint !== fingerprint) {
    throw new CheckpointError(
      'checkpoint-mismatch',
      `${path} belongs to a run with other settings or data; start a new run or resume with the same settings`,
    );
  }
  vars.forEach((v, i) => {
    const t = tensors.get(`param.${i}`);
    if (!t || t.data.length !== v.size)
      throw new CheckpointError('checkpoint-invalid', `${path}: parameter ${i} is missing or has the wrong size`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
  });
  opt.loadState(Number(metadata.adamw_step), tensors);
  return JSON.parse(metadata.state) as LoopState;
}
