#!/usr/bin/env node
// `npm run build:cli`: bundles the cytotune command into out/cli/ so that bin/cytotune.js starts
// without transpiling TypeScript (tsx costs ~1.5 s and ~150 MB on every run). ESM, node_modules
// left external (native addons and wasm files stay where npm put them), and split: each command
// is its own chunk, loaded only when it runs. build-stamp.json lists the sources that went in and
// when, so bin/cytotune.js can tell a stale build from a fresh one with a few stat calls.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'out/cli');
// Taken before reading any source: a file saved during the build then counts as newer.
const builtAt = Date.now();

/**
 * Deep imports into a package without an extension (`@tensorflow/tfjs-core/dist/register_all_gradients`)
 * work under tsx and bundlers but not under Node's ESM loader: name the .js file, keep it external.
 */
const nodeDeepImports = {
  name: 'node-deep-imports',
  setup(b) {
    b.onResolve({ filter: /^(@[^/]+\/)?[^./][^/]*\/.+/ }, (args) => {
      if (/\.[cm]?js$/.test(args.path) || !existsSync(join(root, 'node_modules', `${args.path}.js`))) return undefined;
      return { path: `${args.path}.js`, external: true };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'src/cli/index.ts',
    // Forked by LoRA training (gradientPool.ts looks for gradWorker.js next to its own chunk),
    // so it must be a file of its own in the same folder as every chunk.
    gradWorker: 'src/ml/training/parallel/gradWorker.ts',
    // Batch classification's preprocessing threads (prepPool.ts looks for prepThread.js the same way).
    prepThread: 'src/ml/inference/prepThread.ts',
    // The cell preview's detector thread (cellPreviewThread.ts looks for it next to its chunk).
    cellPreviewWorker: 'src/main/project/cellPreviewWorker.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  plugins: [nodeDeepImports],
  logLevel: 'warning',
});

const inputs = Object.keys(result.metafile.inputs)
  .map((p) => relative(root, join(root, p)))
  .sort();
writeFileSync(join(outdir, 'build-stamp.json'), JSON.stringify({ builtAt, inputs }, null, 1) + '\n');
const chunks = Object.keys(result.metafile.outputs).filter((p) => p.endsWith('.js')).length;
console.log(`built out/cli: ${chunks} files from ${inputs.length} sources`);
