// Shared access to the PyTorch parity fixtures (test/fixtures/ml, made by make_parity_fixtures.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, type NpyArray } from '../../src/ml/checkpoint/npy';
import type { FamilyName } from '../../src/ml/models/encoder';

export const FIXTURE_DIR = join(import.meta.dirname, '../fixtures/ml');

export interface FixtureEntry {
  file: string;
  family: FamilyName;
  expected: string;
  outputDim: number;
}

export interface Manifest {
  config: { imageSize: number; patchSize: number; width: number; depth: number; heads: number; outputDim: number };
  input: string;
  fixtures: FixtureEntry[];
}

export const manifest: Manifest = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8'));

export function fixturePath(file: string): string {
  return join(FIXTURE_DIR, file);
}

export function loadNpy(file: string): NpyArray {
  return parseNpy(readFileSync(fixturePath(file)), file);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
