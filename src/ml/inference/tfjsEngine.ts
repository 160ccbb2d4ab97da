// The TensorFlow.js implementation of InferenceEngine: the encoder's own forward pass with
// LoRA merged (MergedLora, as evaluation does) and the head's softmax, micro-batched because
// the wasm heap is 4 GiB. Runs on whatever tfjs backend the caller selected.
import * as tf from '@tensorflow/tfjs-core';
import { MergedLora } from '../adapters/merge';
import { loadEncoder } from '../models/loadEncoder';
import type { VitEncoder } from '../models/vit';
import { EngineError, runInChunks, type ChunkOutputs, type EngineOptions, type EngineOutputs, type InferenceEngine } from './engineTypes';

export function createTfjsEngine(o: EngineOptions, note?: string): InferenceEngine {
  if (!o.encoder === !o.checkpoint) throw new EngineError('invalid-engine-options', 'give either an encoder or a checkpoint path');
  const owned = !o.encoder;
  const encoder: VitEncoder = o.encoder ?? loadEncoder(o.checkpoint!, o.loadOptions);
  const merged = o.adapter ? new MergedLora(o.adapter) : null;
  const head = o.head ?? null;
  const cfg = encoder.config;
  if (head && head.inputDim !== cfg.outputDim) {
    merged?.dispose();
    if (owned) encoder.dispose();
    throw new EngineError(
      'invalid-engine-options',
      `head expects ${head.inputDim}-dim embeddings but the encoder outputs ${cfg.outputDim}`,
    );
  }
  const maxBatch = o.maxBatch ?? 8;
  const per = 3 * cfg.imageSize * cfg.imageSize;

  const runAll = (batch: Float32Array, n: number): Promise<EngineOutputs> =>
    runInChunks(batch, n, per, maxBatch, { embedding: cfg.outputDim, classes: head?.numClasses ?? null }, async (chunk, m) => {
      const ys = tf.tidy(() => {
        const x = tf.tensor4d(chunk, [m, 3, cfg.imageSize, cfg.imageSize]);
        const e = encoder.embed(x, merged?.hook, false);
        if (!head) return [e];
        const logits = head.apply(e);
        return [e, logits, tf.softmax(logits)];
      });
      try {
        return (await Promise.all(ys.map((y) => y.data()))) as unknown as ChunkOutputs;
      } finally {
        tf.dispose(ys);
      }
    });

  return {
    name: 'tfjs',
    detail: `tfjs ${tf.getBackend()}${note ? ` (${note})` : ''}`,
    config: cfg,
    output: head ? 'probabilities' : 'embeddings',
    outputSize: head ? head.numClasses : cfg.outputDim,
    maxBatch,
    runAll,
    run: async (batch, n) => {
      const r = await runAll(batch, n);
      return head ? r.probabilities! : r.embeddings;
    },
    dispose: async () => {
      merged?.dispose();
      if (owned) encoder.dispose();
    },
  };
}
