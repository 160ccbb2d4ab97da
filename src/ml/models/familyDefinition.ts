// What a model family is, in one object: how to recognise its checkpoints from tensor names,
// which shapes give its configuration, how its tensors map onto the one ViT (vit.ts), how its
// inputs are normalised, and how to build a random checkpoint of it for tests. One file per family
// in families/, listed in registry.ts (how to add one: CONTRIBUTING.md).
// Only type imports of tfjs code here and in families/: src/main loads the registry to detect
// families and never loads tfjs.
import type { EncoderConfig } from './encoder';
import type { RandomModelSpec, StateDictBuilder } from './randomEncoder';
import type { VitWeights } from './vit';
import type { WeightReader } from './weightReader';

export type Triple = [number, number, number];

/** OpenAI CLIP's pixel statistics (also BiomedCLIP's and every open_clip CLIP tower's). */
export const CLIP_MEAN: Triple = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: Triple = [0.26862954, 0.26130258, 0.27577711];
/** ImageNet's (UNI and timm ViTs). */
export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];

/** Shapes of a checkpoint's tensors, by name after the family's prefix; `shape` throws naming a missing tensor. */
export interface ShapeView {
  shape(name: string): number[];
  has(name: string): boolean;
}

/** What a family reads from shapes; the shared arithmetic (grid, depth, heads) is registry work. */
export interface FamilyLayout {
  /** Patch embedding Conv2d weight shape, [width, 3, p, p]. */
  patchWeight: number[];
  /** Rows of the position embedding: grid^2, plus one when CLS has its own (not timm no_embed_class). */
  posTokens: number;
  /** Block i's tensors are `${blockPrefix}i.*`; depth counts the i that have `${blockPrefix}i.${blockKey}`. */
  blockPrefix: string;
  blockKey: string;
  /** Block 0's first MLP linear weight, relative to `${blockPrefix}0.`: [mlpDim, width]. */
  mlpKey: string;
  /** Size of the embedding `embed` returns. */
  outputDim: number;
  /** timm LayerScale gammas present (UNI). */
  layerScale: boolean;
}

/** A checkpoint recognised as a family: its configuration and where its names start. */
export interface Detected {
  config: EncoderConfig;
  /** What precedes the family's own names ('', 'module.', 'vit.', ...). */
  prefix: string;
  layerScale: boolean;
  /** False for timm no_embed_class checkpoints, whose position embedding has no CLS row. */
  posHasCls: boolean;
}

export interface FamilyDefinition<N extends string = string> {
  readonly name: N;
  /** Tensor names shown to the user when no family matches (N = block index). */
  readonly expects: readonly string[];
  readonly layerNormEps: number;
  /** Default activation; DetectOptions.activation overrides it. */
  readonly activation: 'gelu' | 'quick_gelu';
  /** Per-channel normalisation the preprocessing applies (not `embed`). */
  readonly mean: Triple;
  readonly std: Triple;
  /** The prefix before this family's names, or null when the names are not this family's. */
  detect(names: readonly string[]): string | null;
  /** The family-specific part of the configuration, from shapes only (no tensor data read). */
  layout(t: ShapeView): FamilyLayout;
  /** Reads every tensor into the ViT's layout ([in, out] linears); `r` names are prefix-relative. */
  loadWeights(r: WeightReader, det: Detected): VitWeights;
  /** Fills `b` with random tensors under this family's names and torch shapes ([out, in] linears). */
  randomStateDict(b: StateDictBuilder, spec: RandomModelSpec): void;
}

/**
 * The shortest prefix p such that some name is exactly p + anchor (p empty or ending in '.'),
 * or null. The shortest, so that 'module.visual.trunk.' is not taken for a timm-vit prefix
 * when 'module.' is there too.
 */
export function prefixBefore(names: readonly string[], anchor: string): string | null {
  let best: string | null = null;
  for (const n of names) {
    if (!n.endsWith(anchor)) continue;
    const p = n.slice(0, n.length - anchor.length);
    if (p !== '' && !p.endsWith('.')) continue;
    if (best === null || p.length < best.length) best = p;
  }
  return best;
}

/** Rows of the position embedding the loaded model has: grid^2 (+1 for CLS unless no_embed_class). */
export function positionRows(det: Detected): number {
  const grid = det.config.imageSize / det.config.patchSize;
  return grid * grid + (det.posHasCls ? 1 : 0);
}
