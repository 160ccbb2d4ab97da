// Test helpers for the experiment tests: a small ImageFolder of links to real Herlev images
// (test/fixtures/data/herlev-40px) and a tiny random CLIP-layout checkpoint written
// as a real safetensors file, so everything goes through the real loaders.
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomStateDict, writeSafetensors } from '../../src/ml/models/randomEncoder';
import { HERLEV_DIR } from './herlevData';

export const TINY_SPEC = { family: 'openai-clip' as const, imageSize: 32, patchSize: 8, width: 32, depth: 1, heads: 2, outputDim: 16 };

/** Writes a tiny random checkpoint (heads 2: pass --heads 2 / heads: 2 when loading). */
export function tinyCheckpoint(dir: string, name = 'tiny.safetensors', seed = 1): string {
  const path = join(dir, name);
  writeSafetensors(path, randomStateDict(TINY_SPEC, seed));
  return path;
}

/**
 * `<dir>/<folder>/<image>` links to the first `perClass` images (by name) of each Herlev class;
 * `classes` maps the folder name to create to the Herlev class it takes images from.
 */
export function herlevFolder(dir: string, classes: Record<string, string>, perClass: number): string {
  for (const [folder, herlev] of Object.entries(classes)) {
    mkdirSync(join(dir, folder), { recursive: true });
    const src = join(HERLEV_DIR, herlev);
    for (const f of readdirSync(src).sort().slice(0, perClass)) symlinkSync(join(src, f), join(dir, folder, f));
  }
  return dir;
}

export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}
