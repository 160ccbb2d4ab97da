// timm VisionTransformer (UNI ViT-L/16, timm ViT-B/16; the trunk of BiomedCLIP, see
// openClipTimm.ts): q,k,v packed by rows in attn.qkv, exact GELU (erf), LN eps 1e-6, LayerScale
// when `ls*.gamma` are present, optional norm_pre, CLS after the final norm, no projection.
// The trunk helpers take the prefix the trunk sits under ('' here, 'visual.trunk.' in open_clip).
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  positionRows,
  prefixBefore,
  type Detected,
  type FamilyDefinition,
  type FamilyLayout,
  type ShapeView,
} from '../familyDefinition';
import type { RandomModelSpec, StateDictBuilder } from '../randomEncoder';
import type { BlockWeights, VitWeights } from '../vit';
import type { WeightReader } from '../weightReader';

export const TIMM_EXPECTS = [
  'cls_token',
  'pos_embed',
  'patch_embed.proj',
  'blocks.N.{norm1,attn.qkv,attn.proj,ls1.gamma?,norm2,mlp.fc1,mlp.fc2,ls2.gamma?}',
  'norm',
];

/** The trunk's layout; outputDim is the width (callers with a head replace it). */
export function timmTrunkLayout(t: ShapeView, trunk: string): FamilyLayout {
  const patchWeight = t.shape(`${trunk}patch_embed.proj.weight`);
  const pos = t.shape(`${trunk}pos_embed`); // [1, tokens, width] (or [tokens, width])
  return {
    patchWeight,
    posTokens: pos[pos.length - 2],
    blockPrefix: `${trunk}blocks.`,
    blockKey: 'attn.qkv.weight',
    mlpKey: 'mlp.fc1.weight',
    outputDim: patchWeight[0],
    layerScale: t.has(`${trunk}blocks.0.ls1.gamma`),
  };
}

/** Every trunk tensor; `proj` is left null for the caller. */
export function loadTimmTrunk(r: WeightReader, det: Detected, trunk: string): VitWeights {
  const cfg = det.config;
  const { width, mlpDim, depth, layerNormEps: eps } = cfg;
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < depth; i++) {
    const b = `${trunk}blocks.${i}`;
    const [q, k, v] = r.packedQkv(`${b}.attn.qkv.weight`, `${b}.attn.qkv.bias`, width);
    blocks.push({
      ln1: r.layerNorm(`${b}.norm1`, width, eps),
      q,
      k,
      v,
      o: r.linear(`${b}.attn.proj`, width, width),
      ln2: r.layerNorm(`${b}.norm2`, width, eps),
      fc1: r.linear(`${b}.mlp.fc1`, width, mlpDim),
      fc2: r.linear(`${b}.mlp.fc2`, mlpDim, width),
      ls1: det.layerScale ? r.vector(`${b}.ls1.gamma`, width) : null,
      ls2: det.layerScale ? r.vector(`${b}.ls2.gamma`, width) : null,
    });
  }
  return {
    patch: r.patch(`${trunk}patch_embed.proj`, cfg, true),
    cls: r.vector(`${trunk}cls_token`, width),
    pos: r.matrix(`${trunk}pos_embed`, positionRows(det), width),
    posHasCls: det.posHasCls,
    lnPre: r.has(`${trunk}norm_pre.weight`) ? r.layerNorm(`${trunk}norm_pre`, width, eps) : null,
    blocks,
    lnPost: r.layerNorm(`${trunk}norm`, width, eps),
    proj: null,
  };
}

export function randomTimmTrunk(b: StateDictBuilder, spec: RandomModelSpec, trunk: string): void {
  const { width: w, mlp, tokens } = b.dims;
  b.randn(`${trunk}cls_token`, [1, 1, w], 0.02);
  b.randn(`${trunk}pos_embed`, [1, tokens, w], 0.02);
  b.conv(`${trunk}patch_embed.proj`, true);
  for (let i = 0; i < spec.depth; i++) {
    const p = `${trunk}blocks.${i}`;
    b.layerNorm(`${p}.norm1`);
    b.linear(`${p}.attn.qkv`, 3 * w, w);
    b.linear(`${p}.attn.proj`, w, w);
    b.layerNorm(`${p}.norm2`);
    b.linear(`${p}.mlp.fc1`, mlp, w);
    b.linear(`${p}.mlp.fc2`, w, mlp);
    if (spec.layerScale) {
      b.fill(`${p}.ls1.gamma`, [w], () => 0.5 + 0.1 * b.rng.normal());
      b.fill(`${p}.ls2.gamma`, [w], () => 0.5 + 0.1 * b.rng.normal());
    }
  }
  b.layerNorm(`${trunk}norm`);
}

export const timmVit: FamilyDefinition<'timm-vit'> = {
  name: 'timm-vit',
  expects: TIMM_EXPECTS,
  layerNormEps: 1e-6,
  activation: 'gelu',
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  detect: (names) => prefixBefore(names, 'patch_embed.proj.weight'),
  layout: (t) => timmTrunkLayout(t, ''),
  loadWeights: (r, det) => loadTimmTrunk(r, det, ''),
  randomStateDict: (b, spec) => randomTimmTrunk(b, spec, ''),
};
