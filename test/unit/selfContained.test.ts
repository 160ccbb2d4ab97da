// A clone with nothing beside it passes the suite: no source, test, benchmark or script may
// reach outside the repository (the data the suite needs lives in test/fixtures/data).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths';

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'results' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (relative(repoRoot, p) !== 'test/fixtures/data') files(p, out);
    } else if (/\.(ts|tsx|js|mjs|cjs|py|sh|json)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every quoted relative path of a file that resolves outside the repository, and every named path into a sibling checkout. */
export function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/['"`](\.\.\/[^'"`\s]*)['"`]/g)) {
    const target = resolve(dirname(file), m[1]);
    if (relative(repoRoot, target).startsWith('..')) found.push(m[1]);
  }
  for (const m of text.matchAll(/(?:repoRoot|root|cwd|process\.cwd\(\))\s*,\s*['"`](\.\.\/[^'"`]*)['"`]/g)) found.push(m[1]);
  for (const m of text.matchAll(/\.\.\/shared\/(?:data|reference)[^'"`\s)]*/g)) found.push(m[0]);
  return found;
}

describe('the repository is self-contained', () => {
  it('finds a reference outside the repository when there is one', () => {
    // The sibling data folder's name is assembled here so this file does not itself name it.
    const sibling = ['shared', 'data'].join('/');
    expect(outsideReferences(join(repoRoot, 'test/x.ts'), `const d = '../../${sibling}/herlev-40px';`)).not.toEqual([]);
    expect(outsideReferences(join(repoRoot, 'test/x.ts'), `resolve(repoRoot, '../${sibling}')`)).not.toEqual([]);
    expect(outsideReferences(join(repoRoot, 'src/worker/x.ts'), "import { a } from '../shared/jobs';")).toEqual([]);
  });

  it('no source, test, benchmark, script or config reads a path outside the repository', () => {
    const roots = ['src', 'test', 'bench', 'scripts', 'bin', '.ci'].map((d) => join(repoRoot, d));
    const configs = readdirSync(repoRoot)
      .filter((f) => /\.(ts|js|json)$/.test(f) && f !== 'package-lock.json')
      .map((f) => join(repoRoot, f));
    const checked = [...roots.flatMap((r) => files(r)), ...configs].filter((f) => f !== import.meta.filename);
    const offending = checked.flatMap((f) =>
      outsideReferences(f, readFileSync(f, 'utf8')).map((ref) => `${relative(repoRoot, f)}: ${ref}`),
    );
    expect(offending).toEqual([]);
  });
});
