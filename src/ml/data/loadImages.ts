// Image files -> one normalised NCHW batch for an encoder (evaluation transform).
import { decodeImage } from '../../slides/decodeImage';
import type { EncoderConfig } from '../models/encoder';
import { preprocessEval } from './transforms';

/** Decodes and preprocesses `paths`; returns data for a [paths.length, 3, S, S] tensor. */
export async function loadImageBatch(paths: string[], cfg: Pick<EncoderConfig, 'imageSize' | 'mean' | 'std'>): Promise<Float32Array> {
  const per = 3 * cfg.imageSize * cfg.imageSize;
  const out = new Float32Array(paths.length * per);
  for (let i = 0; i < paths.length; i++) preprocessEval(await decodeImage(paths[i]), cfg, out, i * per);
  return out;
}
