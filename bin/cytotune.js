#!/usr/bin/env node
// The `cytotune` command. Runs the bundle in out/cli (`npm run build:cli`) when it is at least as
// new as every source that went into it, else the TypeScript sources through tsx, so headless use
// never needs a build step and never runs stale code. The bundle starts in ~0.1 s; tsx transpiles
// on every run (~1-2 s). CYTOTUNE_CLI=tsx or =built forces one (benchmarks, debugging).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureThreadPoolSize } from '../src/main/threadPoolSize.mjs';

// For the processes this one starts (the ML worker, gradient workers): they inherit it. This
// process's own pool already started while this ES module loaded; bin/cytotune.cjs (the
// installed command) sets the variable before that.
ensureThreadPoolSize();

const root = fileURLToPath(new URL('..', import.meta.url));

/** The build's stamp lists its sources; one stat each (~170 files, ~2 ms). Deleted or newer: stale. */
function builtIsFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(`${root}out/cli/build-stamp.json`, 'utf8'));
    statSync(`${root}out/cli/index.js`);
  } catch {
    return false;
  }
  for (const input of stamp.inputs) {
    const s = statSync(root + input, { throwIfNoEntry: false });
    if (!s || s.mtimeMs > stamp.builtAt) return false;
  }
  return true;
}

const mode = process.env.CYTOTUNE_CLI;
if (mode === 'built' && !existsSync(`${root}out/cli/index.js`)) {
  process.stderr.write('cytotune: CYTOTUNE_CLI=built but out/cli is not built; run `npm run build:cli`\n');
  process.exit(2);
}
let main;
if (mode === 'built' || (mode !== 'tsx' && builtIsFresh())) {
  ({ main } = await import('../out/cli/index.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/index.ts'));
}
process.exitCode = await main(process.argv.slice(2));
