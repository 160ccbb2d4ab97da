// The attention head count from configuration files beside a checkpoint (Hugging Face
// config.json, open_clip_config.json), the explicit option, and the width/64 guess, with the
// source reported in the encoder config.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorInfo } from '../../../../src/ml/checkpoint/types';
import { headCount } from '../../../../src/ml/models/headCount';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { randomStateDict, writeSafetensors } from '../../../../src/ml/models/randomEncoder';
import { detectFamily } from '../../../../src/ml/models/registry';

const root = mkdtempSync(join(tmpdir(), 'enc-heads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

let n = 0;
/** A folder holding an (empty) checkpoint file and the given configuration files; returns the checkpoint path. */
function folder(files: Record<string, unknown>): string {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir);
  for (const [name, v] of Object.entries(files)) writeFileSync(join(dir, name), typeof v === 'string' ? v : JSON.stringify(v));
  const ckpt = join(dir, 'model.safetensors');
  writeFileSync(ckpt, '');
  return ckpt;
}

/** Names and shapes of an open_clip ViT-H/14 vision tower (width 1280, 32 blocks, 16 heads of 80). */
function vitH14(): Map<string, TensorInfo> {
  const w = 1280;
  const t = new Map<string, TensorInfo>();
  const add = (k: string, shape: number[]) => t.set(k, { shape, dtype: 'F32' });
  add('visual.conv1.weight', [w, 3, 14, 14]);
  add('visual.positional_embedding', [257, w]);
  add('visual.proj', [w, 1024]);
  for (let i = 0; i < 32; i++) {
    add(`visual.transformer.resblocks.${i}.attn.in_proj_weight`, [3 * w, w]);
    add(`visual.transformer.resblocks.${i}.mlp.c_fc.weight`, [5120, w]);
  }
  return t;
}

describe('attention heads', () => {
  it('ViT-H/14: width/64 guesses 20; open_clip_config.json (head_width 80) and config.json say 16', () => {
    const t = vitH14();
    expect(detectFamily(t, {}, folder({})).config).toMatchObject({ width: 1280, heads: 20, headsSource: 'width/64 guess' });
    const oc = folder({
      'open_clip_config.json': {
        model_cfg: { embed_dim: 1024, vision_cfg: { image_size: 224, layers: 32, width: 1280, head_width: 80, patch_size: 14 } },
      },
    });
    expect(detectFamily(t, {}, oc).config).toMatchObject({ heads: 16, headsSource: 'open_clip_config.json' });
    const hf = folder({
      'config.json': {
        model_type: 'clip',
        vision_config: { hidden_size: 1280, num_attention_heads: 16 },
        text_config: { hidden_size: 1024, num_attention_heads: 16 },
      },
    });
    expect(detectFamily(t, {}, hf).config).toMatchObject({ heads: 16, headsSource: 'config.json' });
    // The explicit option wins over any file.
    expect(detectFamily(t, { heads: 10 }, hf).config).toMatchObject({ heads: 10, headsSource: 'option' });
  });

  it('passes over files that do not describe this checkpoint or have no head count', () => {
    const w = 768;
    const guess = { heads: 12, headsSource: 'width/64 guess' };
    expect(headCount(folder({ 'config.json': { hidden_size: 1024, num_attention_heads: 16 } }), w)).toEqual(guess); // other width
    expect(headCount(folder({ 'config.json': { architecture: 'vit_large_patch16_224', num_features: 1024 } }), w)).toEqual(guess); // timm's
    expect(headCount(folder({ 'config.json': '{ not json' }), w)).toEqual(guess);
    expect(headCount(folder({ 'config.json': { num_attention_heads: 7 } }), w)).toEqual(guess); // 7 does not divide 768
    expect(
      headCount(folder({ 'open_clip_config.json': { model_cfg: { vision_cfg: { timm_model_name: 'vit_base_patch16_224' } } } }), w),
    ).toEqual(guess); // BiomedCLIP
    expect(headCount(folder({ 'open_clip_config.json': { model_cfg: { vision_cfg: { width: 768 } } } }), w)).toEqual({
      heads: 12,
      headsSource: 'open_clip_config.json',
    }); // head_width 64 by default
    expect(headCount('<memory>', w)).toEqual(guess); // not a file: nothing beside it is read
  });

  it('a Hugging Face ViT with config.json beside it loads with its head count (width 64: 4 heads, not 1)', () => {
    const dir = join(root, 'hf-vit');
    mkdirSync(dir);
    const spec = { family: 'hf-vit' as const, imageSize: 16, patchSize: 8, width: 64, depth: 1 };
    const path = join(dir, 'model.safetensors');
    writeSafetensors(path, randomStateDict(spec, 4));
    const alone = loadEncoder(path);
    expect(alone.config).toMatchObject({ heads: 1, headsSource: 'width/64 guess' });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 'vit', hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 1 }),
    );
    const before = tf.memory().numTensors;
    const enc = loadEncoder(path);
    expect(enc.config).toMatchObject({ heads: 4, headsSource: 'config.json' });
    const x = tf.ones([1, 3, 16, 16]) as tf.Tensor4D;
    const a = enc.embed(x);
    const b = alone.embed(x);
    expect(a.shape).toEqual([1, 64]);
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync())); // the split matters
    tf.dispose([x, a, b]);
    enc.dispose();
    expect(tf.memory().numTensors).toBe(before);
    alone.dispose();
  });
});
