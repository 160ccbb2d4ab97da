import { join } from 'node:path';
import { randomStateDict, writeSafetensors } from '../../src/ml/models/randomEncoder';

/** A tiny random CLIP-layout checkpoint on disk (width 64: one head by the width/64 rule). */
export function writeTinyCheckpoint(dir: string, seed = 7): string {
  const path = join(dir, 'tiny-clip.safetensors');
  writeSafetensors(
    path,
    randomStateDict({ family: 'openai-clip', imageSize: 32, patchSize: 8, width: 64, depth: 2, heads: 1, outputDim: 32 }, seed),
  );
  return path;
}
