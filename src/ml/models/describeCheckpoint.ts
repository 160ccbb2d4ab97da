// What a checkpoint file is, from its tensor names and shapes only (no weights are read): the
// family, the encoder configuration and the parameter count. Run off the app's event loop
// (src/worker/inspect.ts) because the file comes from outside.
import { openCheckpoint } from '../checkpoint/openCheckpoint';
import { elementCount } from '../checkpoint/types';
import type { EncoderConfig } from './encoder';
import { detectFamily } from './registry';

export interface CheckpointDescription {
  family: string;
  config: EncoderConfig;
  parameterCount: number;
}

export function describeCheckpoint(path: string): CheckpointDescription {
  const checkpoint = openCheckpoint(path);
  try {
    const detected = detectFamily(checkpoint.tensors, {}, path);
    let parameterCount = 0;
    for (const t of checkpoint.tensors.values()) parameterCount += elementCount(t.shape);
    return { family: detected.config.family, config: detected.config, parameterCount };
  } finally {
    checkpoint.close();
  }
}
