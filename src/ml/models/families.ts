// Recognises which of the five layouts a checkpoint uses, from tensor names and shapes alone,
// and derives the EncoderConfig (patch size, width, depth, image size, output dimension).
import { CheckpointError } from '../checkpoint/errors';
import type { TensorInfo } from '../checkpoint/types';
import { familyNormalisation } from '../data/normalisation';
import type { EncoderConfig, FamilyName } from './encoder';

export const FAMILIES: readonly FamilyName[] = ['openai-clip', 'hf-clip', 'timm-vit', 'open-clip-timm', 'hf-vit'];

interface FamilySpec {
  family: FamilyName;
  /** Key whose presence (after some prefix) identifies the layout; the prefix is what precedes it. */
  anchor: string;
  /** Names shown to the user when nothing matches (N = block index). */
  expects: string[];
  eps: number;
  activation: 'gelu' | 'quick_gelu';
}

export const FAMILY_SPECS: readonly FamilySpec[] = [
  {
    family: 'open-clip-timm', anchor: 'visual.trunk.patch_embed.proj.weight', eps: 1e-6, activation: 'gelu',
    expects: ['visual.trunk.{cls_token,pos_embed,patch_embed.proj}', 'visual.trunk.blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}', 'visual.trunk.norm', 'visual.head.proj.weight'],
  },
  {
    family: 'openai-clip', anchor: 'visual.conv1.weight', eps: 1e-5, activation: 'quick_gelu',
    expects: ['visual.{conv1,class_embedding,positional_embedding,ln_pre}', 'visual.transformer.resblocks.N.{attn.in_proj_weight,attn.out_proj,ln_1,mlp.c_fc,mlp.c_proj,ln_2}', 'visual.{ln_post,proj}'],
  },
  {
    family: 'hf-clip', anchor: 'vision_model.embeddings.patch_embedding.weight', eps: 1e-5, activation: 'quick_gelu',
    expects: ['vision_model.embeddings.{patch_embedding,class_embedding,position_embedding}', 'vision_model.pre_layrnorm', 'vision_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj,layer_norm1,layer_norm2,mlp.fc1,mlp.fc2}', 'vision_model.post_layernorm', 'visual_projection.weight (optional)'],
  },
  {
    family: 'timm-vit', anchor: 'patch_embed.proj.weight', eps: 1e-6, activation: 'gelu',
    expects: ['cls_token', 'pos_embed', 'patch_embed.proj', 'blocks.N.{norm1,attn.qkv,attn.proj,ls1.gamma?,norm2,mlp.fc1,mlp.fc2,ls2.gamma?}', 'norm'],
  },
  {
    family: 'hf-vit', anchor: 'embeddings.patch_embeddings.projection.weight', eps: 1e-12, activation: 'gelu',
    expects: ['[vit.]embeddings.{cls_token,position_embeddings,patch_embeddings.projection}', '[vit.]encoder.layer.N.{attention.attention.{query,key,value},attention.output.dense,intermediate.dense,output.dense,layernorm_before,layernorm_after}', '[vit.]layernorm'],
  },
];

export interface DetectOptions {
  family?: FamilyName;
  /** Attention heads; default width / 64 (true of every ViT-B/L/H and CLIP tower). */
  heads?: number;
  /** Override the activation (e.g. an open_clip model trained without QuickGELU). */
  activation?: 'gelu' | 'quick_gelu';
}

export interface Detected {
  config: EncoderConfig;
  /** What precedes the family's own names ('', 'module.', 'vit.', ...). */
  prefix: string;
  layerScale: boolean;
  posHasCls: boolean;
}

function findPrefix(names: Iterable<string>, anchor: string): string | null {
  let best: string | null = null;
  for (const n of names) {
    if (!n.endsWith(anchor)) continue;
    const p = n.slice(0, n.length - anchor.length);
    if (p !== '' && !p.endsWith('.')) continue;
    if (best === null || p.length < best.length) best = p;
  }
  return best;
}

export function unknownFamilyMessage(path: string): string {
  const lines = FAMILY_SPECS.map((s) => `  ${s.family}: ${s.expects.join(', ')}`);
  return `${path}: the tensor names match none of the supported model families. Expected one of:\n${lines.join('\n')}`;
}

function countBlocks(names: Iterable<string>, prefix: string, suffix: string): number {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)\\.${suffix.replace(/\./g, '\\.')}$`);
  let depth = 0;
  for (const n of names) {
    const m = re.exec(n);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  return depth;
}

export function detectFamily(tensors: Map<string, TensorInfo>, opts: DetectOptions = {}, path = 'checkpoint'): Detected {
  const names = [...tensors.keys()];
  const specs = opts.family ? FAMILY_SPECS.filter((s) => s.family === opts.family) : FAMILY_SPECS;
  for (const spec of specs) {
    const prefix = findPrefix(names, spec.anchor);
    if (prefix === null) continue;
    return configFor(spec, prefix, tensors, opts, path);
  }
  if (opts.family && !FAMILIES.includes(opts.family)) {
    throw new CheckpointError('unknown-family', `unknown family '${opts.family}'; choose one of ${FAMILIES.join(', ')}`);
  }
  throw new CheckpointError('unknown-family', opts.family ? `${path}: not a ${opts.family} checkpoint. ${unknownFamilyMessage(path)}` : unknownFamilyMessage(path));
}

function configFor(spec: FamilySpec, p: string, t: Map<string, TensorInfo>, opts: DetectOptions, path: string): Detected {
  const shape = (name: string): number[] => {
    const info = t.get(p + name);
    if (!info) throw new CheckpointError('unknown-family', `${path}: looks like ${spec.family} but ${p + name} is missing. ${unknownFamilyMessage(path)}`);
    return info.shape;
  };
  let patchW: number[], posTokens: number, blocksPrefix: string, blockKey: string, fc1: string, outputDim: number;
  let layerScale = false;
  const family = spec.family;
  switch (family) {
    case 'openai-clip':
      patchW = shape('visual.conv1.weight');
      posTokens = shape('visual.positional_embedding')[0];
      [blocksPrefix, blockKey, fc1] = ['visual.transformer.resblocks.', 'attn.in_proj_weight', 'mlp.c_fc.weight'];
      outputDim = t.has(p + 'visual.proj') ? shape('visual.proj')[1] : patchW[0];
      break;
    case 'hf-clip': {
      patchW = shape('vision_model.embeddings.patch_embedding.weight');
      posTokens = shape('vision_model.embeddings.position_embedding.weight')[0];
      [blocksPrefix, blockKey, fc1] = ['vision_model.encoder.layers.', 'self_attn.q_proj.weight', 'mlp.fc1.weight'];
      const proj = t.get(p + 'visual_projection.weight');
      outputDim = proj ? proj.shape[0] : patchW[0];
      break;
    }
    case 'timm-vit':
    case 'open-clip-timm': {
      const trunk = family === 'open-clip-timm' ? 'visual.trunk.' : '';
      patchW = shape(trunk + 'patch_embed.proj.weight');
      const pos = shape(trunk + 'pos_embed');
      posTokens = pos[pos.length - 2];
      [blocksPrefix, blockKey, fc1] = [trunk + 'blocks.', 'attn.qkv.weight', 'mlp.fc1.weight'];
      layerScale = t.has(p + trunk + 'blocks.0.ls1.gamma');
      outputDim = family === 'open-clip-timm' ? shape('visual.head.proj.weight')[0] : patchW[0];
      break;
    }
    case 'hf-vit': {
      patchW = shape('embeddings.patch_embeddings.projection.weight');
      const pos = shape('embeddings.position_embeddings');
      posTokens = pos[pos.length - 2];
      [blocksPrefix, blockKey, fc1] = ['encoder.layer.', 'attention.attention.query.weight', 'intermediate.dense.weight'];
      outputDim = patchW[0];
      break;
    }
  }
  const [width, channels, patchSize, patchSize2] = patchW;
  if (patchW.length !== 4 || channels !== 3 || patchSize !== patchSize2) {
    throw new CheckpointError('unknown-family', `${path}: ${spec.family} patch embedding has shape [${patchW}], expected [width, 3, p, p]`);
  }
  const depth = countBlocks(t.keys(), p + blocksPrefix, blockKey);
  if (depth === 0) throw new CheckpointError('unknown-family', `${path}: ${spec.family} checkpoint without transformer blocks (${p + blocksPrefix}N.${blockKey})`);
  const mlpDim = shape(`${blocksPrefix}0.${fc1}`)[0];
  // CLS has its own position unless the grid alone is a perfect square (timm no_embed_class).
  let grid = Math.round(Math.sqrt(posTokens - 1));
  let posHasCls = true;
  if (grid * grid !== posTokens - 1) {
    grid = Math.round(Math.sqrt(posTokens));
    posHasCls = false;
    if (grid * grid !== posTokens) throw new CheckpointError('unknown-family', `${path}: ${posTokens} position embeddings do not form a square grid`);
  }
  const heads = opts.heads ?? width / 64;
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) {
    throw new CheckpointError('unknown-family', `${path}: width ${width} is not divisible into heads of 64; pass the number of attention heads explicitly`);
  }
  const config: EncoderConfig = {
    family,
    imageSize: grid * patchSize,
    patchSize,
    width,
    depth,
    heads,
    mlpDim,
    outputDim,
    layerNormEps: spec.eps,
    activation: opts.activation ?? spec.activation,
    ...familyNormalisation(family),
  };
  return { config, prefix: p, layerScale, posHasCls };
}
