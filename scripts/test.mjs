#!/usr/bin/env node
// `npm test` (and `npm run test:fast` for the unit tier): checks the system packages of
// scripts/system-packages.txt (installing them as root), builds the renderer the UI tests
// serve, then runs vitest. With CYTOTUNE_SYSTEM_PACKAGES=skip the tests that need a missing
// package are left out, and the run ends by naming them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const fast = args[0] === '--fast';
const vitestArgs = fast ? ['test/unit', ...args.slice(1)] : args;

const check = spawnSync(process.execPath, [join(root, 'scripts/ensureSystemPackages.mjs')], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (check.status !== 0) process.exit(check.status ?? 1);
const skipped = check.stdout
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t'));

if (!fast) {
  const build = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'error'],
    { cwd: root, stdio: 'inherit' },
  );
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const exclude = skipped.flatMap(([glob]) => ['--exclude', glob]);
const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...exclude, ...vitestArgs], {
  cwd: root,
  stdio: 'inherit',
});
if (skipped.length) {
  process.stdout.write(
    `\nTiers that did not run (CYTOTUNE_SYSTEM_PACKAGES=skip): ${skipped.map(([glob, pkg]) => `${glob} (needs ${pkg})`).join(', ')}\n`,
  );
}
process.exit(run.status ?? 1);
