// Batches as torch's DataLoader(shuffle=True, drop_last=False) yields them: a fresh seeded
// permutation each epoch, consecutive slices of `batchSize`, a smaller last batch. The state
// (epoch, position) is all a checkpoint needs; permutations are recomputed from (seed, epoch).
import { hashSeed, Rng } from '../random';

export interface SamplerState {
  epoch: number;
  position: number;
}

export class EpochSampler {
  private perm: number[] = [];
  private permEpoch = -1;
  state: SamplerState = { epoch: 0, position: 0 };

  constructor(
    readonly size: number,
    readonly batchSize: number,
    readonly seed: number,
  ) {
    if (size < 1) throw new Error('EpochSampler: empty dataset');
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.size / this.batchSize);
  }

  /** Indices into the dataset for the next batch. */
  next(): number[] {
    if (this.state.position >= this.size) this.state = { epoch: this.state.epoch + 1, position: 0 };
    if (this.permEpoch !== this.state.epoch) {
      this.perm = new Rng(hashSeed(this.seed, 'epoch', this.state.epoch)).shuffle(Array.from({ length: this.size }, (_, i) => i));
      this.permEpoch = this.state.epoch;
    }
    const start = this.state.position;
    const batch = this.perm.slice(start, start + this.batchSize);
    this.state = { epoch: this.state.epoch, position: start + batch.length };
    return batch;
  }
}
