import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** The folder holding package.json, whether we run from src/ (tsx) or from out/ (built). */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
