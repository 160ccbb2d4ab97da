// Evaluation and prediction: embeddings (LoRA merged when present) -> head -> softmax, then
// the shared metrics. Probabilities are returned so callers can rank uncertain images.
import * as tf from '@tensorflow/tfjs-core';
import { argmaxRows, classificationMetrics, type ClassificationMetrics } from '../../shared/metrics';
import { MergedLora } from '../adapters/merge';
import type { Encoder } from '../models/encoder';
import type { LabeledItem } from '../data/fewShot';
import type { ImageBatcher } from '../data/imageBatcher';
import type { TrainedModel } from '../training/trainedModel';
import { embedItems, type EmbedOptions } from './embedItems';

export interface Predictions {
  /** [n, C] row-major softmax probabilities. */
  probabilities: Float32Array;
  predicted: number[];
  numClasses: number;
}

export async function predictPaths(
  encoder: Encoder,
  model: TrainedModel,
  batcher: ImageBatcher,
  paths: string[],
  o: EmbedOptions = {},
): Promise<Predictions> {
  const merged = model.adapter ? new MergedLora(model.adapter) : null;
  try {
    const d = encoder.config.outputDim;
    const emb = await embedItems(encoder, merged?.hook, batcher, paths, o);
    const c = model.head.numClasses;
    const probabilities = tf.tidy(() => tf.softmax(model.head.apply(tf.tensor2d(emb, [paths.length, d]))).dataSync() as Float32Array);
    return { probabilities, predicted: argmaxRows(probabilities, c), numClasses: c };
  } finally {
    merged?.dispose();
  }
}

export async function evaluateItems(
  encoder: Encoder,
  model: TrainedModel,
  batcher: ImageBatcher,
  items: LabeledItem[],
  o: EmbedOptions = {},
): Promise<ClassificationMetrics & { predictions: Predictions }> {
  const p = await predictPaths(
    encoder,
    model,
    batcher,
    items.map((it) => it.path),
    o,
  );
  return { ...metricsOfPredictions(items, p), predictions: p };
}

/** The shared metrics of `items` (their labels) given their predictions, in the same order. */
export function metricsOfPredictions(items: LabeledItem[], p: Predictions): ClassificationMetrics {
  // Cross-entropy from the probabilities, floored so a confident mistake stays finite.
  const losses = items.map((it, i) => -Math.log(Math.max(p.probabilities[i * p.numClasses + it.label], 1e-12)));
  return classificationMetrics(
    items.map((it) => it.label),
    p.predicted,
    p.numClasses,
    losses,
  );
}
