// The encoder configuration of a checkpoint file without loading its weights (tensor names
// and shapes only), so commands can check inputs and find a cached graph before any export.
import { openCheckpoint } from '../checkpoint/openCheckpoint';
import type { EncoderConfig } from '../models/encoder';
import { detectFamily } from '../models/registry';
import type { LoadEncoderOptions } from '../models/loadEncoder';

export function checkpointConfig(path: string, opts: LoadEncoderOptions = {}): EncoderConfig {
  const ckpt = openCheckpoint(path);
  try {
    return detectFamily(ckpt.tensors, opts, ckpt.path).config;
  } finally {
    ckpt.close();
  }
}
