// Checkpoint file -> Encoder: open lazily, detect the family and configuration, build weights.
import { openCheckpoint } from '../checkpoint/openCheckpoint';
import type { Checkpoint } from '../checkpoint/types';
import type { Encoder } from './encoder';
import { detectFamily, type DetectOptions } from './registry';
import { loadVitWeights } from './weightReader';
import { VitEncoder } from './vit';

export type LoadEncoderOptions = DetectOptions;

/**
 * Loads the vision encoder of a checkpoint (.safetensors, .bin/.pt/.pth, TorchScript .pt).
 * Throws CheckpointError (kind: not-found, truncated, corrupt, not-a-checkpoint,
 * unsupported-format, unsupported-dtype, unknown-family) for files it cannot use.
 */
export function loadEncoder(path: string, opts: LoadEncoderOptions = {}): VitEncoder {
  const ckpt = openCheckpoint(path);
  try {
    return encoderFromCheckpoint(ckpt, opts);
  } finally {
    ckpt.close();
  }
}

export function encoderFromCheckpoint(ckpt: Checkpoint, opts: LoadEncoderOptions = {}): VitEncoder {
  const det = detectFamily(ckpt.tensors, opts, ckpt.path);
  return new VitEncoder(det.config, loadVitWeights(ckpt, det));
}

export type { Encoder };
