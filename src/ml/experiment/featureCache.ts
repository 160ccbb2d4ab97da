// Frozen-backbone features of a whole split, computed once per checkpoint and shared by every
// linear-probe cell (all shots, percentages, seeds and learning rates), kept on disk in
// OUT/features/<model>.safetensors so a rerun does not embed again. As the paper's code, the
// training images go through the training augmentation once (one fixed crop and flip per
// image, seeded by its path), validation and test through the evaluation transform.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { embedItems, type EmbedOptions } from '../eval/embedItems';
import { readWeightsFile, writeWeightsFile } from '../adapters/safetensorsIo';
import type { Encoder } from '../models/encoder';
import type { ImageBatcher } from '../data/imageBatcher';
import { hashSeed } from '../random';

export const FEATURE_FORMAT = 'cytotune-feature-cache/1';

/** What computes the features: an InferenceEngine (the grid uses the fastest) or tfjs. */
export interface FeatureEmbedder {
  /** 'onnx', 'onnx-int8' or 'tfjs': recorded in the grid's log. */
  name: string;
  dim: number;
  embed(paths: string[], o: EmbedOptions): Promise<Float32Array>;
}

/** Features from a tfjs encoder (tests, and where no engine is wanted). */
export function tfjsEmbedder(encoder: Encoder, batcher: ImageBatcher): FeatureEmbedder {
  return { name: 'tfjs', dim: encoder.config.outputDim, embed: (paths, o) => embedItems(encoder, undefined, batcher, paths, o) };
}

export type SplitName = 'train' | 'val' | 'test';

export interface SplitFeatures {
  dim: number;
  /** [n, dim] row-major per split, in the order of `paths[split]`. */
  data: Record<SplitName, Float32Array>;
  /** Row of each image path, per split. */
  row: Record<SplitName, Map<string, number>>;
}

export interface FeatureRequest {
  /** Image paths per split (unique). */
  paths: Record<SplitName, string[]>;
  /** Stable names of the paths (relative to the dataset), for augmentation seeds and the cache key. */
  names: Record<SplitName, string[]>;
  checkpointSha256: string;
  augmentTrain: boolean;
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const SPLITS: SplitName[] = ['train', 'val', 'test'];

/** What the cached features depend on: the base model, the images, the preprocessing. */
function cacheKey(r: FeatureRequest, batcher: ImageBatcher): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ sha: r.checkpointSha256, augment: r.augmentTrain, pipeline: batcher.pipeline.describe() }));
  for (const s of SPLITS) h.update(`${s}\n${r.names[s].join('\n')}\n`);
  return h.digest('hex');
}

function rows(paths: string[]): Map<string, number> {
  return new Map(paths.map((p, i) => [p, i]));
}

/** Loads the cache at `file` when it matches, else embeds every split and writes it. */
export async function probeFeatures(
  embedder: FeatureEmbedder,
  batcher: ImageBatcher,
  file: string,
  r: FeatureRequest,
): Promise<{ features: SplitFeatures; cached: boolean }> {
  const key = cacheKey(r, batcher);
  const dim = embedder.dim;
  const row = { train: rows(r.paths.train), val: rows(r.paths.val), test: rows(r.paths.test) };
  if (existsSync(file)) {
    const { tensors, metadata } = await readWeightsFile(file).catch(() => ({ tensors: new Map(), metadata: {} as Record<string, string> }));
    if (metadata.format === FEATURE_FORMAT && metadata.key === key) {
      const data = Object.fromEntries(SPLITS.map((s) => [s, tensors.get(s)?.data ?? new Float32Array(0)])) as Record<
        SplitName,
        Float32Array
      >;
      if (SPLITS.every((s) => data[s].length === r.paths[s].length * dim)) return { features: { dim, data, row }, cached: true };
    }
  }
  const total = SPLITS.reduce((a, s) => a + r.paths[s].length, 0);
  let before = 0;
  const data = {} as Record<SplitName, Float32Array>;
  for (const s of SPLITS) {
    const seeds = s === 'train' && r.augmentTrain ? r.names.train.map((n) => hashSeed('probe-augment', n)) : undefined;
    const offset = before;
    data[s] = r.paths[s].length
      ? await embedder.embed(r.paths[s], {
          batchSize: r.batchSize,
          augmentSeeds: seeds,
          signal: r.signal,
          onBatch: (done) => r.onProgress?.(offset + done, total),
        })
      : new Float32Array(0);
    before += r.paths[s].length;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeWeightsFile(
    file,
    SPLITS.map((s) => ({ name: s, shape: [r.paths[s].length, dim], data: data[s] })),
    { format: FEATURE_FORMAT, key },
  );
  return { features: { dim, data, row }, cached: false };
}

/** Rows of `paths` from one split's features, as a new [paths.length, dim] array. */
export function gatherRows(f: SplitFeatures, split: SplitName, paths: string[]): Float32Array {
  const out = new Float32Array(paths.length * f.dim);
  paths.forEach((p, i) => {
    const k = f.row[split].get(p);
    if (k === undefined) throw new Error(`no cached feature for ${p} in the ${split} split`);
    out.set(f.data[split].subarray(k * f.dim, (k + 1) * f.dim), i * f.dim);
  });
  return out;
}
