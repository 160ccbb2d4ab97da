// CLIP vision tower in the Hugging Face transformers layout (CLIPVisionModel / CLIPModel):
// separate q,k,v,out projections, `pre_layrnorm` (sic), LN eps 1e-5, QuickGELU for OpenAI's
// weights, CLS after post_layernorm then @ visual_projection (stored [out, width], no bias).
import { CLIP_MEAN, CLIP_STD, positionRows, prefixBefore, type FamilyDefinition } from '../familyDefinition';
import type { BlockWeights } from '../vit';

const EMB = 'vision_model.embeddings';
const BLOCKS = 'vision_model.encoder.layers.';

export const hfClip: FamilyDefinition<'hf-clip'> = {
  name: 'hf-clip',
  expects: [
    'vision_model.embeddings.{patch_embedding,class_embedding,position_embedding}',
    'vision_model.pre_layrnorm',
    'vision_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj,layer_norm1,layer_norm2,mlp.fc1,mlp.fc2}',
    'vision_model.post_layernorm',
    'visual_projection.weight (optional)',
  ],
  layerNormEps: 1e-5,
  activation: 'quick_gelu',
  mean: CLIP_MEAN,
  std: CLIP_STD,

  detect: (names) => prefixBefore(names, `${EMB}.patch_embedding.weight`),

  layout(t) {
    const patchWeight = t.shape(`${EMB}.patch_embedding.weight`);
    return {
      patchWeight,
      posTokens: t.shape(`${EMB}.position_embedding.weight`)[0],
      blockPrefix: BLOCKS,
      blockKey: 'self_attn.q_proj.weight',
      mlpKey: 'mlp.fc1.weight',
      outputDim: t.has('visual_projection.weight') ? t.shape('visual_projection.weight')[0] : patchWeight[0],
      layerScale: false,
    };
  },

  loadWeights(r, det) {
    const cfg = det.config;
    const { width, mlpDim, depth, outputDim, layerNormEps: eps } = cfg;
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < depth; i++) {
      const b = `${BLOCKS}${i}`;
      const lin = (n: string) => r.linear(`${b}.self_attn.${n}`, width, width);
      blocks.push({
        ln1: r.layerNorm(`${b}.layer_norm1`, width, eps),
        q: lin('q_proj'),
        k: lin('k_proj'),
        v: lin('v_proj'),
        o: lin('out_proj'),
        ln2: r.layerNorm(`${b}.layer_norm2`, width, eps),
        fc1: r.linear(`${b}.mlp.fc1`, width, mlpDim),
        fc2: r.linear(`${b}.mlp.fc2`, mlpDim, width),
        ls1: null,
        ls2: null,
      });
    }
    return {
      patch: r.patch(`${EMB}.patch_embedding`, cfg, false),
      cls: r.vector(`${EMB}.class_embedding`, width),
      pos: r.matrix(`${EMB}.position_embedding.weight`, positionRows(det), width),
      posHasCls: true,
      lnPre: r.layerNorm('vision_model.pre_layrnorm', width, eps),
      blocks,
      lnPost: r.layerNorm('vision_model.post_layernorm', width, eps),
      proj: r.has('visual_projection.weight') ? r.linear('visual_projection', width, outputDim, false).w : null,
    };
  },

  randomStateDict(b, spec) {
    const { width: w, mlp, out, tokens } = b.dims;
    b.randn(`${EMB}.class_embedding`, [w], w ** -0.5);
    b.conv(`${EMB}.patch_embedding`, false);
    b.randn(`${EMB}.position_embedding.weight`, [tokens, w], w ** -0.5);
    b.layerNorm('vision_model.pre_layrnorm');
    for (let i = 0; i < spec.depth; i++) {
      const p = `${BLOCKS}${i}`;
      for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) b.linear(`${p}.self_attn.${n}`, w, w);
      b.layerNorm(`${p}.layer_norm1`);
      b.linear(`${p}.mlp.fc1`, mlp, w);
      b.linear(`${p}.mlp.fc2`, w, mlp);
      b.layerNorm(`${p}.layer_norm2`);
    }
    b.layerNorm('vision_model.post_layernorm');
    b.linear('visual_projection', out, w, false);
  },
};
