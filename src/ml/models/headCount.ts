// The number of attention heads is not in a checkpoint's tensors (q, k, v are [width, width]
// whatever the split), so it comes from, in order: the caller's `heads` option; the configuration
// files that travel with real checkpoints when they sit beside the file; else width / 64, which is
// right for ViT-B/L and every OpenAI CLIP tower but wrong for e.g. ViT-H/14 (width 1280, 16 heads).
// The source is returned with the value so embed and doctor can say which it was.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HeadsSource } from './encoder';

export interface HeadCount {
  heads: number;
  headsSource: HeadsSource;
}

export function headCount(checkpointPath: string, width: number, option?: number): HeadCount {
  if (option !== undefined) return { heads: option, headsSource: 'option' };
  return headsFromConfigFiles(checkpointPath, width) ?? { heads: width / 64, headsSource: 'width/64 guess' };
}

/**
 * Heads from `config.json` (Hugging Face: `vision_config.num_attention_heads` of a CLIPConfig, or
 * top-level `num_attention_heads` of a ViT/CLIPVisionConfig) or `open_clip_config.json`
 * (`model_cfg.vision_cfg.width / head_width`, head_width 64 by default) beside the checkpoint.
 * A file whose width disagrees with the checkpoint's, or that has no head count (timm's
 * config.json, open_clip towers built from a timm model name), is passed over.
 */
export function headsFromConfigFiles(checkpointPath: string, width: number): HeadCount | null {
  if (!statSync(checkpointPath, { throwIfNoEntry: false })?.isFile()) return null; // '<memory>', tests
  const dir = dirname(checkpointPath);
  const hf = readJson(join(dir, 'config.json'));
  if (hf) {
    const vision = isObject(hf.vision_config) ? hf.vision_config : hf;
    const heads = vision.num_attention_heads;
    const hidden = vision.hidden_size;
    if (isCount(heads) && (hidden === undefined || hidden === width) && width % heads === 0) return { heads, headsSource: 'config.json' };
  }
  const oc = readJson(join(dir, 'open_clip_config.json'));
  const vision = isObject(oc?.model_cfg) && isObject(oc.model_cfg.vision_cfg) ? oc.model_cfg.vision_cfg : null;
  if (vision && vision.width === width) {
    const headWidth = vision.head_width ?? 64;
    if (isCount(headWidth) && width % headWidth === 0) return { heads: width / headWidth, headsSource: 'open_clip_config.json' };
  }
  return null;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json | null {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isObject(v) ? v : null;
  } catch {
    return null; // absent or not JSON: not a configuration we can use
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}
