// Budgets that bound what any file can make the readers do. A checkpoint is untrusted input
// (downloaded, copied from a USB stick); without these a 152-byte pickle hung the app, a 130 KB
// one ran the heap out of memory, and a 2 MB zip cost 4 GB.
//
// Sized against the largest checkpoint we target, measured with test/fixtures/checkpoints-hostile/
// vitH.ts (which matches Python's pickle of the same structure within 3%): an open_clip ViT-H/14
// training checkpoint with AdamW state has 2,744 tensors and a 262 KB data.pkl that takes 86 k
// opcodes, 45 k values and 65 k items. Every pickle budget is >= 45x that (limits.test.ts checks
// 20x), i.e. room for ~10 MB of typical pickle; worst-case costs of a file that spends a whole
// budget, measured on a shared 2-core machine, are noted per field.
import { CheckpointError } from './errors';

export interface ReadLimits {
  /** Uncompressed size of data.pkl (256x ViT-H + AdamW). Held in memory while parsing. */
  maxPickleBytes: number;
  /** Pickle opcodes executed (116x). The time bound: 10 M opcodes run in 0.4-1 s. */
  maxOpcodes: number;
  /** Values the pickle builds; a dict or call result counts 4 (45x). At the limit: ~2 s, <= ~150 MB. */
  maxObjects: number;
  /** Container slots (a dict entry counts 2), memo entries, stack and mark depth (61x). At the limit: ~1 s, <= ~140 MB. */
  maxItems: number;
  /** Nesting followed when naming tensors; state-dict and module names have < 20 parts. Deeper parts are skipped: not weights. */
  maxDepth: number;
  /** Tensors one file may name (a tied tensor counts once per name); also bounds safetensors headers. */
  maxTensors: number;
  /** Characters in one tensor name; real names are < 200. Longer paths are skipped: not weights. */
  maxNameLength: number;
  /** Zip entries: torch writes one per storage plus a handful. */
  maxZipEntries: number;
  /**
   * Uncompressed size of one deflated zip entry, all of which is inflated to read any tensor in it.
   * torch.save never deflates (only hand-rezipped files do), and the largest single tensor we target
   * (ViT-bigG's token embedding) is 253 MB; a 1 MB deflated entry can claim ~1 GB.
   */
  maxInflatedBytes: number;
  /** safetensors JSON header; ~110 bytes per tensor, and LoRA trainers put MBs of strings in __metadata__. */
  maxSafetensorsHeaderBytes: number;
  /** Wall-clock backstop for parsing and walking one file; the structural budgets stop hostile files first. */
  maxMillis: number;
}

export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxPickleBytes: 64 * 2 ** 20,
  maxOpcodes: 10_000_000,
  maxObjects: 2_000_000,
  maxItems: 4_000_000,
  maxDepth: 64,
  maxTensors: 200_000,
  maxNameLength: 1024,
  maxZipEntries: 200_000,
  maxInflatedBytes: 256 * 2 ** 20,
  maxSafetensorsHeaderBytes: 16 * 2 ** 20,
  maxMillis: 10_000,
});

/** The limits of one open call plus its deadline; every reader of that call shares it. */
export class Budget {
  readonly limits: Readonly<ReadLimits>;
  private readonly deadline: number;

  constructor(
    readonly path: string,
    overrides: Partial<ReadLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...overrides };
    this.deadline = performance.now() + this.limits.maxMillis;
  }

  /** A 'limit-exceeded' error naming what overflowed and the way out. */
  exceeded(what: string): CheckpointError {
    return new CheckpointError(
      'limit-exceeded',
      `${this.path}: ${what}, more than any real checkpoint needs; the file is damaged or not a plain checkpoint (if you trust it, load it in PyTorch and re-save it as safetensors)`,
    );
  }

  /** Throws once the wall-clock budget is spent; callers poll it every few thousand steps. */
  checkTime(during: string): void {
    if (performance.now() > this.deadline) throw this.exceeded(`${during} took longer than ${this.limits.maxMillis / 1000} s`);
  }
}
