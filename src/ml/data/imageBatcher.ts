// Loads batches of images as [N, 3, S, S] tensors: decodes each file once (few-shot sets are
// small; the cache is bounded) and runs the pipeline per image with its own augmentation seed.
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage } from '../../slides/decodeImage';
import type { ImagePipeline } from './imagePipeline';
import type { RgbImage } from '../../shared/image';

export class ImageBatcher {
  private readonly cache = new Map<string, RgbImage>();

  constructor(
    readonly pipeline: ImagePipeline,
    private readonly maxCached = 4096,
    /** Pixels of an item key: a file path by default; the workstation's items name slide patches. */
    private readonly source: (key: string) => Promise<RgbImage> = decodeImage,
  ) {}

  async decode(path: string): Promise<RgbImage> {
    const hit = this.cache.get(path);
    if (hit) return hit;
    const img = await this.source(path);
    if (this.cache.size < this.maxCached) this.cache.set(path, img);
    return img;
  }

  /** `augmentSeeds[i]` for image i, or null for the eval transform. */
  async load(paths: string[], augmentSeeds: number[] | null): Promise<tf.Tensor4D> {
    const S = this.pipeline.size;
    const per = 3 * S * S;
    const buf = new Float32Array(paths.length * per);
    for (let i = 0; i < paths.length; i++) {
      const img = await this.decode(paths[i]);
      buf.set(this.pipeline.prepare(img, augmentSeeds ? augmentSeeds[i] : null), i * per);
    }
    return tf.tensor4d(buf, [paths.length, 3, S, S]);
  }
}
