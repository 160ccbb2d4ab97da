// What a LoRA adapter is attached to and how it is scaled. Defaults follow the paper's code
// (CLIP-LoRA loralib): rank 2 on q,v of every block, alpha 1, s = alpha / sqrt(r), dropout 0.25.
import type { EncoderConfig } from '../models/encoder';
import { PAPER_DEFAULTS, PROJECTIONS, type LoraOptions, type ProjectionName } from '../../shared/training';

export interface LoraSpec {
  rank: number;
  alpha: number;
  dropout: number;
  /** Sorted in q,k,v,o order, no duplicates. */
  targets: ProjectionName[];
  /** Sorted ascending, concrete indices. */
  blocks: number[];
  /** alpha / sqrt(rank), as in the paper's loralib (not alpha / rank). */
  scale: number;
}

export class LoraConfigError extends Error {
  readonly kind = 'invalid-lora-config';
}

/** The paper's LoRA defaults (shared/training.ts). */
const LORA_DEFAULTS = PAPER_DEFAULTS.train.lora as Required<LoraOptions>;

export function resolveLoraSpec(opts: LoraOptions, config: Pick<EncoderConfig, 'depth'>): LoraSpec {
  const rank = opts.rank ?? LORA_DEFAULTS.rank;
  const alpha = opts.alpha ?? LORA_DEFAULTS.alpha;
  const dropout = opts.dropout ?? LORA_DEFAULTS.dropout;
  const rawTargets = opts.targets ?? LORA_DEFAULTS.targets;
  if (!Number.isInteger(rank) || rank < 1) throw new LoraConfigError(`rank must be a positive integer, got ${rank}`);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new LoraConfigError(`alpha must be a positive number, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new LoraConfigError(`dropout must be in [0, 1), got ${dropout}`);
  if (rawTargets.length === 0) throw new LoraConfigError('targets must name at least one of q,k,v,o');
  for (const t of rawTargets) {
    if (!PROJECTIONS.includes(t)) throw new LoraConfigError(`unknown target "${t}"; valid targets are q,k,v,o`);
  }
  const targets = PROJECTIONS.filter((p) => rawTargets.includes(p));
  const all = Array.from({ length: config.depth }, (_, i) => i);
  const rawBlocks = opts.blocks === undefined || opts.blocks === 'all' ? all : opts.blocks;
  for (const b of rawBlocks) {
    if (!Number.isInteger(b) || b < 0 || b >= config.depth) {
      throw new LoraConfigError(`block ${b} does not exist; the model has blocks 0..${config.depth - 1}`);
    }
  }
  const blocks = [...new Set(rawBlocks)].sort((a, b) => a - b);
  if (blocks.length === 0) throw new LoraConfigError('blocks must name at least one block');
  return { rank, alpha, dropout, targets, blocks, scale: alpha / Math.sqrt(rank) };
}

/** Parses "q,v" (command line) into targets. */
export function parseTargets(s: string): ProjectionName[] {
  const parts = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of parts) {
    if (!PROJECTIONS.includes(p as ProjectionName)) throw new LoraConfigError(`unknown target "${p}"; valid targets are q,k,v,o`);
  }
  return parts as ProjectionName[];
}

export function layerKey(block: number, name: ProjectionName): string {
  return `${block}.${name}`;
}
