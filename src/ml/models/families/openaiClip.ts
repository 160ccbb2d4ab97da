// OpenAI CLIP vision tower (CLIP ViT-B/16, ViT-L/14; open_clip checkpoints such as QuiltNet-B-32):
// `visual.*` names, q,k,v packed by rows in attn.in_proj_weight, QuickGELU, LN eps 1e-5, conv
// without bias, ln_pre before the blocks, CLS after ln_post then @ visual.proj [width, out].
import { CLIP_MEAN, CLIP_STD, positionRows, prefixBefore, type FamilyDefinition } from '../familyDefinition';
import type { BlockWeights } from '../vit';

const BLOCKS = 'visual.transformer.resblocks.';

export const openaiClip: FamilyDefinition<'openai-clip'> = {
  name: 'openai-clip',
  expects: [
    'visual.{conv1,class_embedding,positional_embedding,ln_pre}',
    'visual.transformer.resblocks.N.{attn.in_proj_weight,attn.out_proj,ln_1,mlp.c_fc,mlp.c_proj,ln_2}',
    'visual.{ln_post,proj}',
  ],
  layerNormEps: 1e-5,
  activation: 'quick_gelu',
  mean: CLIP_MEAN,
  std: CLIP_STD,

  detect: (names) => prefixBefore(names, 'visual.conv1.weight'),

  layout(t) {
    const patchWeight = t.shape('visual.conv1.weight');
    return {
      patchWeight,
      posTokens: t.shape('visual.positional_embedding')[0],
      blockPrefix: BLOCKS,
      blockKey: 'attn.in_proj_weight',
      mlpKey: 'mlp.c_fc.weight',
      outputDim: t.has('visual.proj') ? t.shape('visual.proj')[1] : patchWeight[0],
      layerScale: false,
    };
  },

  loadWeights(r, det) {
    const cfg = det.config;
    const { width, mlpDim, depth, outputDim, layerNormEps: eps } = cfg;
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < depth; i++) {
      const b = `${BLOCKS}${i}`;
      const [q, k, v] = r.packedQkv(`${b}.attn.in_proj_weight`, `${b}.attn.in_proj_bias`, width);
      blocks.push({
        ln1: r.layerNorm(`${b}.ln_1`, width, eps),
        q,
        k,
        v,
        o: r.linear(`${b}.attn.out_proj`, width, width),
        ln2: r.layerNorm(`${b}.ln_2`, width, eps),
        fc1: r.linear(`${b}.mlp.c_fc`, width, mlpDim),
        fc2: r.linear(`${b}.mlp.c_proj`, mlpDim, width),
        ls1: null,
        ls2: null,
      });
    }
    return {
      patch: r.patch('visual.conv1', cfg, false),
      cls: r.vector('visual.class_embedding', width),
      pos: r.matrix('visual.positional_embedding', positionRows(det), width),
      posHasCls: true,
      lnPre: r.layerNorm('visual.ln_pre', width, eps),
      blocks,
      lnPost: r.layerNorm('visual.ln_post', width, eps),
      proj: r.has('visual.proj') ? r.matrix('visual.proj', width, outputDim) : null,
    };
  },

  randomStateDict(b, spec) {
    const { width: w, mlp, out, tokens } = b.dims;
    b.conv('visual.conv1', false);
    b.randn('visual.class_embedding', [w], w ** -0.5);
    b.randn('visual.positional_embedding', [tokens, w], w ** -0.5);
    b.layerNorm('visual.ln_pre');
    for (let i = 0; i < spec.depth; i++) {
      const p = `${BLOCKS}${i}`;
      b.randn(`${p}.attn.in_proj_weight`, [3 * w, w], 1 / Math.sqrt(w));
      b.randn(`${p}.attn.in_proj_bias`, [3 * w], 0.02);
      b.linear(`${p}.attn.out_proj`, w, w);
      b.layerNorm(`${p}.ln_1`);
      b.linear(`${p}.mlp.c_fc`, mlp, w);
      b.linear(`${p}.mlp.c_proj`, w, mlp);
      b.layerNorm(`${p}.ln_2`);
    }
    b.layerNorm('visual.ln_post');
    b.randn('visual.proj', [w, out], w ** -0.5);
  },
};
