// Family and configuration detection from names and shapes (real ViT sizes, no weights read),
// refusal of unknown layouts, and the random-model builder the training code uses.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../../src/ml/checkpoint/errors';
import type { TensorInfo } from '../../../../src/ml/checkpoint/types';
import { detectFamily } from '../../../../src/ml/models/registry';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { createRandomEncoder, randomStateDict, writeSafetensors, type RandomModelSpec } from '../../../../src/ml/models/randomEncoder';

const dir = mkdtempSync(join(tmpdir(), 'enc-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Names and shapes of a random state dict, without keeping the data (for real sizes). */
function shapesOf(spec: RandomModelSpec, extra: Record<string, number[]> = {}, prefix = ''): Map<string, TensorInfo> {
  const sd = randomStateDict({ ...spec, depth: 1, width: 8, mlpDim: 8, imageSize: spec.patchSize, outputDim: 4 }, 0);
  // Scale shapes up symbolically: re-derive the real-size shapes by name.
  const m = new Map<string, TensorInfo>();
  const w = spec.width,
    mlp = spec.mlpDim ?? 4 * w,
    tokens = (spec.imageSize / spec.patchSize) ** 2 + 1,
    out = spec.outputDim ?? w;
  const real = (name: string, shape: number[]): number[] => {
    if (/conv1\.weight|patch_embedding\.weight|patch_embed\.proj\.weight|patch_embeddings\.projection\.weight/.test(name))
      return [w, 3, spec.patchSize, spec.patchSize];
    if (/positional_embedding$|position_embedding\.weight/.test(name)) return [tokens, w];
    if (/pos_embed$|position_embeddings$/.test(name)) return [1, tokens, w];
    if (/in_proj_weight|qkv\.weight/.test(name)) return [3 * w, w];
    if (/in_proj_bias|qkv\.bias/.test(name)) return [3 * w];
    if (/(c_fc|fc1|intermediate\.dense)\.weight/.test(name)) return [mlp, w];
    if (/(c_fc|fc1|intermediate\.dense)\.bias/.test(name)) return [mlp];
    if (/(c_proj|fc2|output\.dense)\.weight/.test(name) && !/attention/.test(name)) return [w, mlp];
    if (name === 'visual.proj') return [w, out];
    if (/visual_projection\.weight|head\.proj\.weight/.test(name)) return [out, w];
    if (shape.length === 2) return [w, w];
    if (shape.length === 3) return [1, 1, w];
    return [w];
  };
  for (const [k, v] of sd) {
    for (let b = 0; b < spec.depth; b++) {
      const name = k.replace(/\.0\./, `.${b}.`);
      if (b > 0 && name === k) continue;
      m.set(prefix + name, { shape: real(name, v.shape), dtype: 'F32' });
    }
  }
  for (const [k, s] of Object.entries(extra)) m.set(k, { shape: s, dtype: 'F32' });
  return m;
}

describe('detectFamily', () => {
  it('OpenAI CLIP ViT-L/14 at 224: width 1024, 24 blocks, 16 heads, projection 768, QuickGELU, eps 1e-5', () => {
    const d = detectFamily(
      shapesOf(
        { family: 'openai-clip', imageSize: 224, patchSize: 14, width: 1024, depth: 24, outputDim: 768 },
        { 'transformer.resblocks.0.attn.in_proj_weight': [1536, 512], logit_scale: [] },
      ),
    );
    expect(d.config).toMatchObject({
      family: 'openai-clip',
      imageSize: 224,
      patchSize: 14,
      width: 1024,
      depth: 24,
      heads: 16,
      mlpDim: 4096,
      outputDim: 768,
      activation: 'quick_gelu',
      layerNormEps: 1e-5,
    });
    expect(d.config.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
  });

  it('UNI (timm ViT-L/16 with LayerScale): ImageNet constants, exact GELU, eps 1e-6', () => {
    const d = detectFamily(shapesOf({ family: 'timm-vit', imageSize: 224, patchSize: 16, width: 1024, depth: 24, layerScale: true }));
    expect(d.config).toMatchObject({
      family: 'timm-vit',
      imageSize: 224,
      width: 1024,
      depth: 24,
      heads: 16,
      outputDim: 1024,
      activation: 'gelu',
      layerNormEps: 1e-6,
    });
    expect(d.layerScale).toBe(true);
    expect(d.config.std).toEqual([0.229, 0.224, 0.225]);
  });

  it('BiomedCLIP (open-clip-timm, ViT-B/16, head 512) under a DDP "module." prefix', () => {
    const d = detectFamily(
      shapesOf({ family: 'open-clip-timm', imageSize: 224, patchSize: 16, width: 768, depth: 12, outputDim: 512 }, {}, 'module.'),
    );
    expect(d.prefix).toBe('module.');
    expect(d.config).toMatchObject({ family: 'open-clip-timm', width: 768, depth: 12, heads: 12, outputDim: 512 });
    expect(d.config.mean[0]).toBeCloseTo(0.48145466, 8);
  });

  it('HF CLIP and HF ViT (with and without "vit.") are told apart', () => {
    expect(
      detectFamily(shapesOf({ family: 'hf-clip', imageSize: 224, patchSize: 16, width: 768, depth: 12, outputDim: 512 })).config,
    ).toMatchObject({ family: 'hf-clip', outputDim: 512, heads: 12 });
    const vit = shapesOf({ family: 'hf-vit', imageSize: 224, patchSize: 16, width: 768, depth: 12 });
    expect(detectFamily(vit).config).toMatchObject({ family: 'hf-vit', layerNormEps: 1e-12, mean: [0.5, 0.5, 0.5], outputDim: 768 });
    const bare = new Map([...vit].map(([k, v]) => [k.replace(/^vit\./, ''), v]));
    expect(detectFamily(bare).prefix).toBe('');
  });

  it('refuses a checkpoint that matches nothing, listing every family and its key names', () => {
    const t = new Map<string, TensorInfo>([
      ['encoder.conv.weight', { shape: [8, 3, 3, 3], dtype: 'F32' }],
      ['fc.weight', { shape: [10, 8], dtype: 'F32' }],
    ]);
    let err: unknown;
    try {
      detectFamily(t, {}, 'resnet.bin');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).kind).toBe('unknown-family');
    for (const s of [
      'openai-clip',
      'hf-clip',
      'timm-vit',
      'open-clip-timm',
      'hf-vit',
      'conv1',
      'vision_model.embeddings',
      'patch_embed.proj',
      'visual.head.proj.weight',
      'layernorm_before',
    ]) {
      expect((err as Error).message).toContain(s);
    }
  });

  it('refuses a forced family the file is not, and a width that is not a multiple of 64 without heads', () => {
    const t = shapesOf({ family: 'timm-vit', imageSize: 224, patchSize: 16, width: 768, depth: 2 });
    expect(() => detectFamily(t, { family: 'hf-vit' })).toThrow(/not a hf-vit checkpoint/);
    const small = shapesOf({ family: 'timm-vit', imageSize: 32, patchSize: 8, width: 48, depth: 2 });
    expect(() => detectFamily(small)).toThrow(/heads/);
    expect(detectFamily(small, { heads: 3 }).config.heads).toBe(3);
  });
});

describe('createRandomEncoder and random checkpoints', () => {
  it('builds a tiny model of every family; same seed, same embedding; no leaked tensors', () => {
    const before = tf.memory().numTensors;
    for (const family of ['openai-clip', 'hf-clip', 'timm-vit', 'open-clip-timm', 'hf-vit'] as const) {
      const spec = { family, imageSize: 32, patchSize: 8, width: 32, depth: 2, heads: 2 };
      const a = createRandomEncoder(spec, 7);
      const b = createRandomEncoder(spec, 7);
      const x = tf.randomNormal([2, 3, 32, 32], 0, 1, 'float32', 1) as tf.Tensor4D;
      const ya = a.embed(x);
      const yb = b.embed(x);
      expect(ya.shape).toEqual([2, a.config.outputDim]);
      expect(Array.from(ya.dataSync())).toEqual(Array.from(yb.dataSync()));
      expect(ya.dataSync().every(Number.isFinite)).toBe(true);
      tf.dispose([x, ya, yb]);
      a.dispose();
      b.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a random checkpoint written as safetensors loads back as the same model', () => {
    const spec = { family: 'timm-vit' as const, imageSize: 32, patchSize: 8, width: 64, depth: 1, layerScale: true };
    const p = join(dir, 'uni-tiny.safetensors');
    writeSafetensors(p, randomStateDict(spec, 3), { note: 'test' });
    const fromFile = loadEncoder(p);
    expect(fromFile.config).toMatchObject({ heads: 1, width: 64, depth: 1 });
    const mem = createRandomEncoder(spec, 3);
    const x = tf.ones([1, 3, 32, 32]) as tf.Tensor4D;
    const a = fromFile.embed(x);
    const b = mem.embed(x);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    fromFile.dispose();
    mem.dispose();
  });

  it('a checkpoint missing one block tensor is refused by name, and the half-built model is freed', () => {
    const sd = randomStateDict({ family: 'timm-vit', imageSize: 32, patchSize: 8, width: 64, depth: 2 }, 1);
    sd.delete('blocks.1.mlp.fc2.weight');
    const p = join(dir, 'broken.safetensors');
    writeSafetensors(p, sd);
    const before = tf.memory().numTensors;
    expect(() => loadEncoder(p)).toThrow(/missing tensor blocks\.1\.mlp\.fc2\.weight/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('embed refuses images of the wrong size with a message naming the expected shape', () => {
    const enc = createRandomEncoder({ family: 'hf-vit', imageSize: 32, patchSize: 8, width: 32, depth: 1, heads: 2 });
    const x = tf.zeros([1, 3, 16, 16]) as tf.Tensor4D;
    expect(() => enc.embed(x)).toThrow(/\[N, 3, 32, 32\]/);
    x.dispose();
    enc.dispose();
  });
});
