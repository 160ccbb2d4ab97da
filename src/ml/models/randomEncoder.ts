// Tiny (or real-size) random models in any family's checkpoint layout, for tests, the training
// engineer's unit tests and benchmarks (no pretrained weights can be downloaded here). They go
// through the same loader as real checkpoints, so the names and layouts are exercised too.
import { writeFileSync } from 'node:fs';
import type { Checkpoint, TensorInfo } from '../checkpoint/types';
import { Rng } from '../data/rng';
import type { FamilyName } from './encoder';
import { encoderFromCheckpoint } from './loadEncoder';
import type { VitEncoder } from './vit';

export interface RandomModelSpec {
  family: FamilyName;
  imageSize: number;
  patchSize: number;
  width: number;
  depth: number;
  /** Default width / 64 when width is a multiple of 64, else 2. */
  heads?: number;
  /** Default 4 * width. */
  mlpDim?: number;
  /** Projection size for CLIP families (default width / 2); ViTs output width. */
  outputDim?: number;
  /** timm-vit only: add LayerScale gammas (UNI). */
  layerScale?: boolean;
}

export type StateDict = Map<string, { shape: number[]; data: Float32Array }>;

/** A random state dict with `spec.family`'s tensor names and torch shapes ([out, in] linears). */
export function randomStateDict(spec: RandomModelSpec, seed: number): StateDict {
  const rng = new Rng(seed);
  const { width: w, depth, patchSize: p } = spec;
  const mlp = spec.mlpDim ?? 4 * w;
  const out = spec.outputDim ?? Math.max(1, w / 2);
  const tokens = (spec.imageSize / p) ** 2 + 1;
  const sd: StateDict = new Map();
  const fill = (shape: number[], f: () => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = f();
    return { shape, data };
  };
  const randn = (name: string, shape: number[], scale: number) => sd.set(name, fill(shape, () => scale * rng.normal()));
  const lin = (name: string, o: number, i: number, bias = true) => {
    randn(`${name}.weight`, [o, i], 1 / Math.sqrt(i));
    if (bias) randn(`${name}.bias`, [o], 0.02);
  };
  const ln = (name: string, g = 'weight', b = 'bias') => {
    sd.set(`${name}.${g}`, fill([w], () => 1 + 0.1 * rng.normal()));
    randn(`${name}.${b}`, [w], 0.02);
  };
  const conv = (name: string, bias: boolean) => {
    randn(`${name}.weight`, [w, 3, p, p], 1 / Math.sqrt(3 * p * p));
    if (bias) randn(`${name}.bias`, [w], 0.02);
  };
  switch (spec.family) {
    case 'openai-clip':
      conv('visual.conv1', false);
      randn('visual.class_embedding', [w], w ** -0.5);
      randn('visual.positional_embedding', [tokens, w], w ** -0.5);
      ln('visual.ln_pre');
      for (let i = 0; i < depth; i++) {
        const b = `visual.transformer.resblocks.${i}`;
        randn(`${b}.attn.in_proj_weight`, [3 * w, w], 1 / Math.sqrt(w));
        randn(`${b}.attn.in_proj_bias`, [3 * w], 0.02);
        lin(`${b}.attn.out_proj`, w, w);
        ln(`${b}.ln_1`);
        lin(`${b}.mlp.c_fc`, mlp, w);
        lin(`${b}.mlp.c_proj`, w, mlp);
        ln(`${b}.ln_2`);
      }
      ln('visual.ln_post');
      randn('visual.proj', [w, out], w ** -0.5);
      break;
    case 'hf-clip': {
      const e = 'vision_model.embeddings';
      randn(`${e}.class_embedding`, [w], w ** -0.5);
      conv(`${e}.patch_embedding`, false);
      randn(`${e}.position_embedding.weight`, [tokens, w], w ** -0.5);
      ln('vision_model.pre_layrnorm');
      for (let i = 0; i < depth; i++) {
        const b = `vision_model.encoder.layers.${i}`;
        for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(`${b}.self_attn.${n}`, w, w);
        ln(`${b}.layer_norm1`);
        lin(`${b}.mlp.fc1`, mlp, w);
        lin(`${b}.mlp.fc2`, w, mlp);
        ln(`${b}.layer_norm2`);
      }
      ln('vision_model.post_layernorm');
      lin('visual_projection', out, w, false);
      break;
    }
    case 'timm-vit':
    case 'open-clip-timm': {
      const t = spec.family === 'open-clip-timm' ? 'visual.trunk.' : '';
      randn(`${t}cls_token`, [1, 1, w], 0.02);
      randn(`${t}pos_embed`, [1, tokens, w], 0.02);
      conv(`${t}patch_embed.proj`, true);
      for (let i = 0; i < depth; i++) {
        const b = `${t}blocks.${i}`;
        ln(`${b}.norm1`);
        lin(`${b}.attn.qkv`, 3 * w, w);
        lin(`${b}.attn.proj`, w, w);
        ln(`${b}.norm2`);
        lin(`${b}.mlp.fc1`, mlp, w);
        lin(`${b}.mlp.fc2`, w, mlp);
        if (spec.layerScale) {
          sd.set(`${b}.ls1.gamma`, fill([w], () => 0.5 + 0.1 * rng.normal()));
          sd.set(`${b}.ls2.gamma`, fill([w], () => 0.5 + 0.1 * rng.normal()));
        }
      }
      ln(`${t}norm`);
      if (spec.family === 'open-clip-timm') lin('visual.head.proj', out, w, false);
      break;
    }
    case 'hf-vit': {
      randn('vit.embeddings.cls_token', [1, 1, w], 0.02);
      randn('vit.embeddings.position_embeddings', [1, tokens, w], 0.02);
      conv('vit.embeddings.patch_embeddings.projection', true);
      for (let i = 0; i < depth; i++) {
        const b = `vit.encoder.layer.${i}`;
        for (const n of ['query', 'key', 'value']) lin(`${b}.attention.attention.${n}`, w, w);
        lin(`${b}.attention.output.dense`, w, w);
        lin(`${b}.intermediate.dense`, mlp, w);
        lin(`${b}.output.dense`, w, mlp);
        ln(`${b}.layernorm_before`);
        ln(`${b}.layernorm_after`);
      }
      ln('vit.layernorm');
      break;
    }
  }
  return sd;
}

/** A Checkpoint over an in-memory state dict (same interface as the file readers). */
export function memoryCheckpoint(sd: StateDict, path = '<memory>'): Checkpoint {
  const tensors = new Map<string, TensorInfo>();
  for (const [k, v] of sd) tensors.set(k, { shape: v.shape, dtype: 'F32' });
  return {
    format: 'memory',
    path,
    tensors,
    read: (name) => {
      const t = sd.get(name);
      if (!t) throw new Error(`no tensor ${name}`);
      return t.data.slice();
    },
    close: () => {},
  };
}

function defaultHeads(spec: RandomModelSpec): number {
  return spec.heads ?? (spec.width % 64 === 0 ? spec.width / 64 : 2);
}

/**
 * A random encoder of any family, e.g. createRandomEncoder({family: 'timm-vit', imageSize: 32,
 * patchSize: 8, width: 32, depth: 2, heads: 2}, 0). Same seed, same weights.
 */
export function createRandomEncoder(spec: RandomModelSpec, seed = 0): VitEncoder {
  return encoderFromCheckpoint(memoryCheckpoint(randomStateDict(spec, seed)), { family: spec.family, heads: defaultHeads(spec) });
}

/** Writes a state dict as an F32 safetensors file (little-endian, 8-byte aligned header). */
export function writeSafetensors(path: string, sd: StateDict, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, v] of sd) {
    header[k] = { dtype: 'F32', shape: v.shape, data_offsets: [offset, offset + v.data.byteLength] };
    offset += v.data.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const buf = new Uint8Array(8 + head.length + offset);
  new DataView(buf.buffer).setBigUint64(0, BigInt(head.length), true);
  buf.set(head, 8);
  let p = 8 + head.length;
  for (const v of sd.values()) {
    buf.set(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength), p);
    p += v.data.byteLength;
  }
  writeFileSync(path, buf);
}
