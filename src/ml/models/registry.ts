// Every model family CytoTune knows (one file each in families/; to add one see CONTRIBUTING.md),
// and detection: which family a checkpoint is, from tensor names and shapes alone, with its
// EncoderConfig. No tfjs here or below (src/main detects families and never loads tfjs).
import { CheckpointError } from '../checkpoint/errors';
import type { TensorInfo } from '../checkpoint/types';
import { configFromLayout } from './familyConfig';
import type { Detected, FamilyDefinition } from './familyDefinition';
import { hfClip } from './families/hfClip';
import { hfVit } from './families/hfVit';
import { openaiClip } from './families/openaiClip';
import { openClipTimm } from './families/openClipTimm';
import { timmVit } from './families/timmVit';

/** In the order shown to users. Detection does not depend on it (see detectFamily). */
export const FAMILIES = [openaiClip, hfClip, timmVit, openClipTimm, hfVit] as const;

export type FamilyName = (typeof FAMILIES)[number]['name'];

export const FAMILY_NAMES: readonly FamilyName[] = FAMILIES.map((f) => f.name);

export type { Detected, FamilyDefinition };

export function isFamilyName(name: string): name is FamilyName {
  return (FAMILY_NAMES as readonly string[]).includes(name);
}

/** The family called `name`; throws CheckpointError('unknown-family') naming the valid ones. */
export function familyByName(name: string): FamilyDefinition<FamilyName> {
  const def = FAMILIES.find((f) => f.name === name);
  if (!def) throw new CheckpointError('unknown-family', `unknown family '${name}'; choose one of ${FAMILY_NAMES.join(', ')}`);
  return def;
}

export interface DetectOptions {
  /** Only try this family (its checkpoints may also look like another's). */
  family?: FamilyName;
  /** Attention heads; default from configuration files beside the checkpoint, else width / 64 (headCount.ts). */
  heads?: number;
  /** Override the activation (e.g. an open_clip model trained without QuickGELU). */
  activation?: 'gelu' | 'quick_gelu';
}

export function unknownFamilyMessage(path: string): string {
  const lines = FAMILIES.map((f) => `  ${f.name}: ${f.expects.join(', ')}`);
  return `${path}: the tensor names match none of the supported model families. Expected one of:\n${lines.join('\n')}`;
}

/**
 * The family of a checkpoint and its configuration. When several families recognise the names,
 * the one whose names start earliest (shortest prefix) wins: an open_clip BiomedCLIP checkpoint
 * holds a whole timm ViT under 'visual.trunk.', so timm-vit matches it too, one level deeper.
 * `path` is the checkpoint file, for messages and for configuration files beside it.
 */
export function detectFamily(tensors: Map<string, TensorInfo>, opts: DetectOptions = {}, path = 'checkpoint'): Detected {
  const candidates: readonly FamilyDefinition<FamilyName>[] = opts.family ? [familyByName(opts.family)] : FAMILIES;
  const names = [...tensors.keys()];
  let best: { def: FamilyDefinition<FamilyName>; prefix: string } | null = null;
  for (const def of candidates) {
    const prefix = def.detect(names);
    if (prefix !== null && (best === null || prefix.length < best.prefix.length)) best = { def, prefix };
  }
  if (best) return configFromLayout(best.def, best.prefix, tensors, opts, path, () => unknownFamilyMessage(path));
  throw new CheckpointError(
    'unknown-family',
    opts.family ? `${path}: not a ${opts.family} checkpoint. ${unknownFamilyMessage(path)}` : unknownFamilyMessage(path),
  );
}
