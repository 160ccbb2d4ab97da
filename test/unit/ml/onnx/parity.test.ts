// ONNX Runtime (our TypeScript ONNX export, onnxruntime-node CPU provider) against the tfjs
// forward pass on the cpu backend, for every family's tiny parity fixture: bare encoder, LoRA
// merged on q,k,v,o with non-zero B, and LoRA + linear head (logits and probabilities).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoraAdapter } from '../../../../src/ml/adapters/loraAdapter';
import { resolveLoraSpec } from '../../../../src/ml/adapters/loraConfig';
import { loraHook } from '../../../../src/ml/adapters/loraHook';
import { MergedLora } from '../../../../src/ml/adapters/merge';
import type { FamilyName } from '../../../../src/ml/models/encoder';
import { encoderFromCheckpoint, loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { createRandomEncoder, memoryCheckpoint, randomStateDict } from '../../../../src/ml/models/randomEncoder';
import type { VitEncoder } from '../../../../src/ml/models/vit';
import { createInferenceEngine, type InferenceEngine } from '../../../../src/ml/inference/engine';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { fixturePath, loadNpy, manifest, maxAbsDiff } from '../../../support/encoderFixtures';

const TOL = 1e-4;
const input = loadNpy(manifest.input); // [2, 3, 32, 32]
const n = input.shape[0];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A LoRA adapter on q,k,v,o of every block with random non-zero B (trained-looking). */
function trainedAdapter(enc: VitEncoder, seed: number): LoraAdapter {
  const adapter = LoraAdapter.create(enc.config, resolveLoraSpec({ rank: 2, targets: ['q', 'k', 'v', 'o'] }, enc.config), seed);
  let i = 0;
  for (const l of adapter.layers.values()) {
    const b = tf.randomNormal<tf.Rank.R2>(l.bT.shape, 0, 0.5, 'float32', seed * 100 + i++);
    l.bT.assign(b);
    b.dispose();
  }
  return adapter;
}

function tfjsEmbed(enc: VitEncoder, adapter?: LoraAdapter): Float32Array {
  return tf.tidy(
    () =>
      enc
        .embed(tf.tensor4d(input.data, input.shape as [number, number, number, number]), adapter ? loraHook(adapter) : undefined)
        .dataSync() as Float32Array,
  );
}

async function onnx(o: Parameters<typeof createInferenceEngine>[0]): Promise<InferenceEngine> {
  const e = await createInferenceEngine({ engine: 'onnx', cacheDir: null, providers: ['cpu'], ...o });
  expect(e.name).toBe('onnx');
  return e;
}

const families = manifest.fixtures.filter((f, i, a) => a.findIndex((g) => g.family === f.family) === i);

describe('ONNX export + onnxruntime-node equal tfjs to 1e-4', () => {
  const before = { tensors: 0 };
  beforeAll(() => {
    before.tensors = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(before.tensors);
  });

  it('covers all five families', () => {
    expect(families.map((f) => f.family).sort()).toEqual(['hf-clip', 'hf-vit', 'open-clip-timm', 'openai-clip', 'timm-vit']);
  });

  for (const fx of families) {
    it(`${fx.family}: bare encoder, LoRA merged (q,k,v,o, B != 0) and LoRA + head; no tensor leaks`, async () => {
      const enc = loadEncoder(fixturePath(fx.file), { heads: manifest.config.heads });
      const adapter = trainedAdapter(enc, 7);
      const head = LinearHead.create(enc.config.outputDim, 3, 11);
      try {
        const start = tf.memory().numTensors;
        // Bare encoder: also equal to PyTorch's reference through the same fixture.
        const bare = await onnx({ encoder: enc });
        const got = await bare.run(input.data, n);
        await bare.dispose();
        const want = tfjsEmbed(enc);
        expect(got.length).toBe(n * fx.outputDim);
        expect(maxAbsDiff(got, want)).toBeLessThan(TOL);
        expect(maxAbsDiff(got, loadNpy(fx.expected).data)).toBeLessThan(TOL);

        // LoRA merged in the graph vs tfjs running the unmerged branch (h = Wx + s B A x).
        const lora = await onnx({ encoder: enc, adapter });
        const gotLora = await lora.run(input.data, n);
        await lora.dispose();
        const wantLora = tfjsEmbed(enc, adapter);
        expect(maxAbsDiff(wantLora, want)).toBeGreaterThan(1e-2); // the adapter really changes the model
        expect(maxAbsDiff(gotLora, wantLora)).toBeLessThan(TOL);

        // LoRA + head: logits and softmax probabilities vs tfjs (MergedLora, as predictPaths does).
        const cls = await onnx({ encoder: enc, adapter, head });
        expect(cls.output).toBe('probabilities');
        const all = await cls.runAll(input.data, n);
        await cls.dispose();
        const merged = new MergedLora(adapter);
        const [wantLogits, wantProbs] = tf.tidy(() => {
          const e = enc.embed(tf.tensor4d(input.data, input.shape as [number, number, number, number]), merged.hook);
          const logits = head.apply(e);
          return [logits.dataSync() as Float32Array, tf.softmax(logits).dataSync() as Float32Array];
        });
        merged.dispose();
        expect(maxAbsDiff(all.embeddings, wantLora)).toBeLessThan(TOL);
        expect(maxAbsDiff(all.logits!, wantLogits)).toBeLessThan(TOL);
        expect(maxAbsDiff(all.probabilities!, wantProbs)).toBeLessThan(TOL);
        expect(tf.memory().numTensors).toBe(start);
      } finally {
        adapter.dispose();
        head.dispose();
        enc.dispose();
      }
    });
  }

  it('LayerScale (UNI-like, gamma ~0.5), no CLS position (timm no_embed_class) and GELU override', async () => {
    const cases: { name: string; make: () => VitEncoder }[] = [
      {
        name: 'timm layerscale',
        make: () =>
          createRandomEncoder({ family: 'timm-vit', imageSize: 32, patchSize: 8, width: 32, depth: 2, heads: 2, layerScale: true }, 3),
      },
      {
        name: 'timm no_embed_class',
        make: () => {
          const sd = randomStateDict({ family: 'timm-vit', imageSize: 32, patchSize: 8, width: 32, depth: 2 }, 4);
          const pos = sd.get('pos_embed')!;
          sd.set('pos_embed', { shape: [1, 16, 32], data: pos.data.slice(32) }); // 4x4 grid, no CLS row
          return encoderFromCheckpoint(memoryCheckpoint(sd), { heads: 2 });
        },
      },
      {
        name: 'open_clip without QuickGELU',
        make: () =>
          encoderFromCheckpoint(
            memoryCheckpoint(randomStateDict({ family: 'openai-clip', imageSize: 32, patchSize: 8, width: 32, depth: 2 }, 5)),
            { heads: 2, activation: 'gelu' },
          ),
      },
    ];
    for (const c of cases) {
      const enc = c.make();
      try {
        const e = await onnx({ encoder: enc });
        const got = await e.run(input.data, n);
        await e.dispose();
        expect(maxAbsDiff(got, tfjsEmbed(enc)), c.name).toBeLessThan(TOL);
      } finally {
        enc.dispose();
      }
    }
  });

  it('splits a run into maxBatch chunks with the same result, and rejects a short input buffer', async () => {
    const enc = createRandomEncoder({ family: 'hf-vit' as FamilyName, imageSize: 32, patchSize: 8, width: 32, depth: 1, heads: 2 }, 9);
    try {
      const x = tf.randomNormal([5, 3, 32, 32], 0, 1, 'float32', 1);
      const data = x.dataSync() as Float32Array;
      x.dispose();
      const whole = await onnx({ encoder: enc });
      const chunked = await onnx({ encoder: enc, maxBatch: 2 });
      const a = await whole.run(data, 5);
      const b = await chunked.run(data, 5);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
      await expect(whole.run(data.subarray(0, 100), 5)).rejects.toThrow(/values for 5 images/);
      await whole.dispose();
      await chunked.dispose();
    } finally {
      enc.dispose();
    }
  });
});
