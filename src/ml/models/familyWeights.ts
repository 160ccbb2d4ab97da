// Maps each family's tensor names onto the one VitWeights layout. Tensors are read one at a time
// from the checkpoint (lazy readers), converted to [in, out] layout in JS and handed to tfjs, so
// the peak is the tfjs copy of the model plus one tensor.
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../checkpoint/errors';
import { elementCount, type Checkpoint } from '../checkpoint/types';
import type { Dense, EncoderConfig } from './encoder';
import type { Detected } from './families';
import type { LayerNormWeights } from './layers';
import type { BlockWeights, VitWeights } from './vit';

/** [rows, cols] row-major -> [cols, rows]. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

class WeightReader {
  /** Every tensor made so far, to dispose on a failed load. */
  readonly created: tf.Tensor[] = [];

  constructor(
    private readonly ckpt: Checkpoint,
    private readonly prefix: string,
  ) {}

  private t1(data: Float32Array): tf.Tensor1D {
    const t = tf.tensor1d(data);
    this.created.push(t);
    return t;
  }

  private t2(data: Float32Array, rows: number, cols: number): tf.Tensor2D {
    const t = tf.tensor2d(data, [rows, cols]);
    this.created.push(t);
    return t;
  }

  has(name: string): boolean {
    return this.ckpt.tensors.has(this.prefix + name);
  }

  read(name: string, expected?: number[]): { data: Float32Array; shape: number[] } {
    const full = this.prefix + name;
    const info = this.ckpt.tensors.get(full);
    if (!info) throw new CheckpointError('unknown-family', `${this.ckpt.path}: missing tensor ${full}`);
    if (expected && elementCount(info.shape) !== elementCount(expected)) {
      throw new CheckpointError('corrupt', `${this.ckpt.path}: ${full} has shape [${info.shape}], expected [${expected}]`);
    }
    return { data: this.ckpt.read(full), shape: info.shape };
  }

  vector(name: string, len: number): tf.Tensor1D {
    return this.t1(this.read(name, [len]).data);
  }

  layerNorm(base: string, width: number, eps: number, gamma = 'weight', beta = 'bias'): LayerNormWeights {
    return { gamma: this.vector(`${base}.${gamma}`, width), beta: this.vector(`${base}.${beta}`, width), eps };
  }

  /** torch Linear weight [out, in] (+ bias) -> Dense with w [in, out]. */
  linear(base: string, inDim: number, outDim: number, bias = true): Dense {
    const w = this.read(`${base}.weight`, [outDim, inDim]).data;
    return {
      w: this.t2(transpose2d(w, outDim, inDim), inDim, outDim),
      b: bias && this.has(`${base}.bias`) ? this.vector(`${base}.bias`, outDim) : null,
    };
  }

  /** Packed [3*width, width] q,k,v weight (+ [3*width] bias) split by rows into three Dense. */
  packedQkv(weight: string, bias: string | null, width: number): [Dense, Dense, Dense] {
    const w = this.read(weight, [3 * width, width]).data;
    const b = bias && this.has(bias) ? this.read(bias, [3 * width]).data : null;
    return [0, 1, 2].map((i) => ({
      w: this.t2(transpose2d(w.subarray(i * width * width, (i + 1) * width * width), width, width), width, width),
      b: b ? this.t1(b.slice(i * width, (i + 1) * width)) : null,
    })) as [Dense, Dense, Dense];
  }

  /** Conv2d(3, width, p, stride p) weight [width, 3, p, p] -> Dense w [3*p*p, width]. */
  patch(base: string, cfg: EncoderConfig, bias: boolean): Dense {
    const k = 3 * cfg.patchSize * cfg.patchSize;
    const w = this.read(`${base}.weight`, [cfg.width, 3, cfg.patchSize, cfg.patchSize]).data;
    return {
      w: this.t2(transpose2d(w, cfg.width, k), k, cfg.width),
      b: bias && this.has(`${base}.bias`) ? this.vector(`${base}.bias`, cfg.width) : null,
    };
  }

  matrix(name: string, rows: number, cols: number): tf.Tensor2D {
    return this.t2(this.read(name, [rows, cols]).data, rows, cols);
  }
}

/** Builds every tensor of the model; on any error, disposes what was already built. */
export function loadVitWeights(ckpt: Checkpoint, det: Detected): VitWeights {
  const reader = new WeightReader(ckpt, det.prefix);
  try {
    return buildWeights(reader, det);
  } catch (err) {
    for (const t of reader.created) t.dispose();
    throw err;
  }
}

function buildWeights(r: WeightReader, det: Detected): VitWeights {
  const cfg = det.config;
  const { width, mlpDim, depth, outputDim, layerNormEps: eps } = cfg;
  const grid = cfg.imageSize / cfg.patchSize;
  const tokens = grid * grid + (det.posHasCls ? 1 : 0);
  const blocks: BlockWeights[] = [];
  let W: VitWeights;
  switch (cfg.family) {
    case 'openai-clip': {
      for (let i = 0; i < depth; i++) {
        const b = `visual.transformer.resblocks.${i}`;
        const [q, k, v] = r.packedQkv(`${b}.attn.in_proj_weight`, `${b}.attn.in_proj_bias`, width);
        blocks.push({
          ln1: r.layerNorm(`${b}.ln_1`, width, eps), q, k, v, o: r.linear(`${b}.attn.out_proj`, width, width),
          ln2: r.layerNorm(`${b}.ln_2`, width, eps), fc1: r.linear(`${b}.mlp.c_fc`, width, mlpDim), fc2: r.linear(`${b}.mlp.c_proj`, mlpDim, width),
          ls1: null, ls2: null,
        });
      }
      W = {
        patch: r.patch('visual.conv1', cfg, false), cls: r.vector('visual.class_embedding', width),
        pos: r.matrix('visual.positional_embedding', tokens, width), posHasCls: true,
        lnPre: r.layerNorm('visual.ln_pre', width, eps), blocks, lnPost: r.layerNorm('visual.ln_post', width, eps),
        proj: r.has('visual.proj') ? r.matrix('visual.proj', width, outputDim) : null,
      };
      break;
    }
    case 'hf-clip': {
      for (let i = 0; i < depth; i++) {
        const b = `vision_model.encoder.layers.${i}`;
        const lin = (n: string) => r.linear(`${b}.self_attn.${n}`, width, width);
        blocks.push({
          ln1: r.layerNorm(`${b}.layer_norm1`, width, eps), q: lin('q_proj'), k: lin('k_proj'), v: lin('v_proj'), o: lin('out_proj'),
          ln2: r.layerNorm(`${b}.layer_norm2`, width, eps), fc1: r.linear(`${b}.mlp.fc1`, width, mlpDim), fc2: r.linear(`${b}.mlp.fc2`, mlpDim, width),
          ls1: null, ls2: null,
        });
      }
      const e = 'vision_model.embeddings';
      W = {
        patch: r.patch(`${e}.patch_embedding`, cfg, false), cls: r.vector(`${e}.class_embedding`, width),
        pos: r.matrix(`${e}.position_embedding.weight`, tokens, width), posHasCls: true,
        lnPre: r.layerNorm('vision_model.pre_layrnorm', width, eps), blocks, lnPost: r.layerNorm('vision_model.post_layernorm', width, eps),
        proj: r.has('visual_projection.weight') ? r.linear('visual_projection', width, outputDim, false).w : null,
      };
      break;
    }
    case 'timm-vit':
    case 'open-clip-timm': {
      const t = cfg.family === 'open-clip-timm' ? 'visual.trunk.' : '';
      for (let i = 0; i < depth; i++) {
        const b = `${t}blocks.${i}`;
        const [q, k, v] = r.packedQkv(`${b}.attn.qkv.weight`, `${b}.attn.qkv.bias`, width);
        blocks.push({
          ln1: r.layerNorm(`${b}.norm1`, width, eps), q, k, v, o: r.linear(`${b}.attn.proj`, width, width),
          ln2: r.layerNorm(`${b}.norm2`, width, eps), fc1: r.linear(`${b}.mlp.fc1`, width, mlpDim), fc2: r.linear(`${b}.mlp.fc2`, mlpDim, width),
          ls1: det.layerScale ? r.vector(`${b}.ls1.gamma`, width) : null,
          ls2: det.layerScale ? r.vector(`${b}.ls2.gamma`, width) : null,
        });
      }
      W = {
        patch: r.patch(`${t}patch_embed.proj`, cfg, true), cls: r.vector(`${t}cls_token`, width),
        pos: r.matrix(`${t}pos_embed`, tokens, width), posHasCls: det.posHasCls,
        lnPre: r.has(`${t}norm_pre.weight`) ? r.layerNorm(`${t}norm_pre`, width, eps) : null,
        blocks, lnPost: r.layerNorm(`${t}norm`, width, eps),
        proj: cfg.family === 'open-clip-timm' ? r.linear('visual.head.proj', width, outputDim, false).w : null,
      };
      break;
    }
    case 'hf-vit': {
      for (let i = 0; i < depth; i++) {
        const b = `encoder.layer.${i}`;
        const lin = (n: string, a = width, o = width) => r.linear(`${b}.${n}`, a, o);
        blocks.push({
          ln1: r.layerNorm(`${b}.layernorm_before`, width, eps),
          q: lin('attention.attention.query'), k: lin('attention.attention.key'), v: lin('attention.attention.value'), o: lin('attention.output.dense'),
          ln2: r.layerNorm(`${b}.layernorm_after`, width, eps), fc1: lin('intermediate.dense', width, mlpDim), fc2: lin('output.dense', mlpDim, width),
          ls1: null, ls2: null,
        });
      }
      W = {
        patch: r.patch('embeddings.patch_embeddings.projection', cfg, true), cls: r.vector('embeddings.cls_token', width),
        pos: r.matrix('embeddings.position_embeddings', tokens, width), posHasCls: true,
        lnPre: null, blocks, lnPost: r.layerNorm('layernorm', width, eps), proj: null,
      };
      break;
    }
  }
  return W;
}
