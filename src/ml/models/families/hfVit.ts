// Google's ViT in the Hugging Face layout (google/vit-base-patch16-224): `[vit.]embeddings`,
// separate query/key/value, exact GELU, LN eps 1e-12, CLS after the final layernorm, no
// projection, inputs normalised with 0.5/0.5. The "vit." prefix is optional (detected).
import { positionRows, prefixBefore, type FamilyDefinition, type Triple } from '../familyDefinition';
import type { BlockWeights } from '../vit';

const HALF: Triple = [0.5, 0.5, 0.5];

export const hfVit: FamilyDefinition<'hf-vit'> = {
  name: 'hf-vit',
  expects: [
    '[vit.]embeddings.{cls_token,position_embeddings,patch_embeddings.projection}',
    '[vit.]encoder.layer.N.{attention.attention.{query,key,value},attention.output.dense,intermediate.dense,output.dense,layernorm_before,layernorm_after}',
    '[vit.]layernorm',
  ],
  layerNormEps: 1e-12,
  activation: 'gelu',
  mean: HALF,
  std: HALF,

  detect: (names) => prefixBefore(names, 'embeddings.patch_embeddings.projection.weight'),

  layout(t) {
    const patchWeight = t.shape('embeddings.patch_embeddings.projection.weight');
    const pos = t.shape('embeddings.position_embeddings'); // [1, tokens, width]
    return {
      patchWeight,
      posTokens: pos[pos.length - 2],
      blockPrefix: 'encoder.layer.',
      blockKey: 'attention.attention.query.weight',
      mlpKey: 'intermediate.dense.weight',
      outputDim: patchWeight[0],
      layerScale: false,
    };
  },

  loadWeights(r, det) {
    const cfg = det.config;
    const { width, mlpDim, depth, layerNormEps: eps } = cfg;
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < depth; i++) {
      const b = `encoder.layer.${i}`;
      const lin = (n: string, a = width, o = width) => r.linear(`${b}.${n}`, a, o);
      blocks.push({
        ln1: r.layerNorm(`${b}.layernorm_before`, width, eps),
        q: lin('attention.attention.query'),
        k: lin('attention.attention.key'),
        v: lin('attention.attention.value'),
        o: lin('attention.output.dense'),
        ln2: r.layerNorm(`${b}.layernorm_after`, width, eps),
        fc1: lin('intermediate.dense', width, mlpDim),
        fc2: lin('output.dense', mlpDim, width),
        ls1: null,
        ls2: null,
      });
    }
    return {
      patch: r.patch('embeddings.patch_embeddings.projection', cfg, true),
      cls: r.vector('embeddings.cls_token', width),
      pos: r.matrix('embeddings.position_embeddings', positionRows(det), width),
      posHasCls: true,
      lnPre: null,
      blocks,
      lnPost: r.layerNorm('layernorm', width, eps),
      proj: null,
    };
  },

  // Written with the "vit." prefix, as ViTModel.save_pretrained does.
  randomStateDict(b, spec) {
    const { width: w, mlp, tokens } = b.dims;
    b.randn('vit.embeddings.cls_token', [1, 1, w], 0.02);
    b.randn('vit.embeddings.position_embeddings', [1, tokens, w], 0.02);
    b.conv('vit.embeddings.patch_embeddings.projection', true);
    for (let i = 0; i < spec.depth; i++) {
      const p = `vit.encoder.layer.${i}`;
      for (const n of ['query', 'key', 'value']) b.linear(`${p}.attention.attention.${n}`, w, w);
      b.linear(`${p}.attention.output.dense`, w, w);
      b.linear(`${p}.intermediate.dense`, mlp, w);
      b.linear(`${p}.output.dense`, w, mlp);
      b.layerNorm(`${p}.layernorm_before`);
      b.layerNorm(`${p}.layernorm_after`);
    }
    b.layerNorm('vit.layernorm');
  },
};
