// Every system library or program the code binds is in the one list of system packages, so
// `npm test`, `npm start` and CI install what the code needs (scripts/system-packages.txt).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingPackages, systemPackages } from '../../src/cli/systemPackages.mjs';
import { repoRoot } from '../support/paths';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

describe('the system package list', () => {
  const listed = systemPackages();
  const provided = new Set(listed.map((p) => p.provides));

  it('names each package once, with a need, a purpose and test globs that exist', () => {
    expect(new Set(listed.map((p) => p.name)).size).toBe(listed.length);
    for (const p of listed) {
      expect(['product', 'tests']).toContain(p.need);
      expect(p.purpose.length).toBeGreaterThan(10);
    }
  });

  it('provides a Linux library for every koffi binding and the Chromium path the UI tests use', () => {
    const files = [...sources(join(repoRoot, 'src')), ...sources(join(repoRoot, 'test/support'))];
    // The files that name the shared libraries they open with koffi (OpenSlide, OpenBLAS).
    const libraryNames = (f: string) => [...readFileSync(f, 'utf8').matchAll(/'(lib[\w.+-]+\.so(?:\.\d+)*)'/g)].map((m) => m[1]);
    const bindings = files.filter((f) => /from 'koffi'|import\('koffi'\)/.test(readFileSync(f, 'utf8')) && libraryNames(f).length > 0);
    expect(bindings.length).toBeGreaterThanOrEqual(2);
    for (const file of bindings) {
      const linuxNames = libraryNames(file);
      expect(
        linuxNames.filter((n) => provided.has(n)),
        `${relative(repoRoot, file)} binds ${linuxNames.join(', ')}`,
      ).not.toEqual([]);
    }
    expect(readFileSync(join(repoRoot, 'test/support/browser.ts'), 'utf8')).toContain(listed.find((p) => p.name === 'chromium')!.provides);
  });

  it('is installed here (npm test installed it before this suite ran)', () => {
    expect(missingPackages()).toEqual([]);
  });
});
