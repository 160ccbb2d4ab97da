// Seeded dropout for the LoRA branch input. Masks are drawn per image from a stream keyed by
// (seed, step, position of the image in the optimiser batch, block, projection), so:
//  - a resumed run draws the same masks as an uninterrupted one (no RNG state to replay);
//  - splitting a batch into micro-batches (gradient accumulation) does not change the masks.
import * as tf from '@tensorflow/tfjs-core';
import { hashSeed, Rng } from '../random';
import type { ProjectionName } from '../../shared/training';

export class BranchDropout {
  private step = 0;
  private sampleIds: number[] = [];

  constructor(
    readonly rate: number,
    readonly seed: number,
  ) {}

  /** Call before each forward: `sampleIds[i]` is image i's index within the optimiser batch. */
  setBatch(step: number, sampleIds: number[]): void {
    this.step = step;
    this.sampleIds = sampleIds;
  }

  /** [rows, cols] of 0 or 1/(1-rate) (inverted dropout, as torch.nn.Dropout); rows = images * tokens. */
  mask(block: number, name: ProjectionName, rows: number, cols: number): tf.Tensor2D {
    const n = this.sampleIds.length;
    if (n === 0 || rows % n !== 0) throw new Error(`BranchDropout: ${rows} rows do not split into ${n} images; call setBatch first`);
    const perImage = (rows / n) * cols;
    const keep = 1 / (1 - this.rate);
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < n; i++) {
      const rng = new Rng(hashSeed(this.seed, 'lora-dropout', this.step, this.sampleIds[i], block, name));
      const base = i * perImage;
      for (let j = 0; j < perImage; j++) out[base + j] = rng.next() < this.rate ? 0 : keep;
    }
    return tf.tensor2d(out, [rows, cols]);
  }
}
