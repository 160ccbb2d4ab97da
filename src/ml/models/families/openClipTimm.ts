// open_clip's TimmModel tower (BiomedCLIP): a timm ViT under `visual.trunk.` (timmVit.ts) and a
// bias-free `visual.head.proj` [out, width] applied to the CLS after the trunk's final norm.
// Trained with the CLIP pixel statistics, not ImageNet's.
import { CLIP_MEAN, CLIP_STD, prefixBefore, type FamilyDefinition } from '../familyDefinition';
import { loadTimmTrunk, randomTimmTrunk, timmTrunkLayout } from './timmVit';

const TRUNK = 'visual.trunk.';
const HEAD = 'visual.head.proj';

export const openClipTimm: FamilyDefinition<'open-clip-timm'> = {
  name: 'open-clip-timm',
  expects: [
    'visual.trunk.{cls_token,pos_embed,patch_embed.proj}',
    'visual.trunk.blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}',
    'visual.trunk.norm',
    `${HEAD}.weight`,
  ],
  layerNormEps: 1e-6,
  activation: 'gelu',
  mean: CLIP_MEAN,
  std: CLIP_STD,

  detect: (names) => prefixBefore(names, `${TRUNK}patch_embed.proj.weight`),

  layout: (t) => ({ ...timmTrunkLayout(t, TRUNK), outputDim: t.shape(`${HEAD}.weight`)[0] }),

  loadWeights(r, det) {
    const W = loadTimmTrunk(r, det, TRUNK);
    return { ...W, proj: r.linear(HEAD, det.config.width, det.config.outputDim, false).w };
  },

  randomStateDict(b, spec) {
    randomTimmTrunk(b, spec, TRUNK);
    b.linear(HEAD, b.dims.out, b.dims.width, false);
  },
};
