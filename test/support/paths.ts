import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Real public data the suite needs, carried in the repository (each folder has its SOURCE.md). */
export const fixtureData = join(repoRoot, 'test/fixtures/data');
export const herlevDir = join(fixtureData, 'herlev-40px');
export const slidePath = join(fixtureData, 'slides/CMU-1-Small-Region.svs');

export function tempDir(prefix = 'cytotune-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Per-class counts of herlev-40px, from its SOURCE.md. */
export const herlevCounts: Record<string, number> = {
  normal_superficiel: 59,
  normal_intermediate: 56,
  normal_columnar: 78,
  light_dysplastic: 146,
  moderate_dysplastic: 117,
  severe_dysplastic: 158,
  carcinoma_in_situ: 120,
};
