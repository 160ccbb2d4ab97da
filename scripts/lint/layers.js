// The one-way layout of DESIGN.md section 2 as data, and an ESLint rule that enforces it on
// every import, relative ones included: a file in src/<layer>/ may import only from the
// layers its line names. `npm run lint` fails on a wrong-way import; the typecheck's one
// TypeScript project per layer (tsconfig.<layer>.json) refuses the same import again.
import { dirname, relative, resolve, sep } from 'node:path';

/** Each layer and what it may import (itself included). Paths are folders or files under src/. */
export const LAYERS = {
  shared: ['shared'],
  slides: ['slides', 'shared'],
  ml: ['ml', 'slides', 'shared'],
  worker: ['worker', 'ml', 'slides', 'shared'],
  // The application core reads ML file formats only; everything else of the ML goes through a job.
  main: [
    'main',
    'slides',
    'shared',
    'ml/checkpoint',
    'ml/models/registry.ts',
    'ml/random.ts',
    'ml/training/runDir.ts',
    'ml/adapters/safetensorsIo.ts',
  ],
  electron: ['electron', 'main', 'shared'],
  preload: ['preload', 'shared'],
  cli: ['cli', 'main', 'ml', 'slides', 'shared'],
  renderer: ['renderer', 'shared'],
};

const root = resolve(import.meta.dirname, '../..');
const src = resolve(root, 'src');

function layerOf(file) {
  const rel = relative(src, file);
  if (rel.startsWith('..')) return null;
  return rel.split(sep)[0];
}

function allowed(layer, target) {
  const rel = relative(src, target).split(sep).join('/');
  if (rel.startsWith('..')) return false; // src never imports tests, benches or scripts
  return LAYERS[layer].some((p) => rel === p || rel.startsWith(p + '/') || rel.replace(/\.(ts|tsx)$/, '') === p.replace(/\.(ts|tsx)$/, ''));
}

export const layerPlugin = {
  rules: {
    'one-way': {
      meta: {
        type: 'problem',
        schema: [],
        messages: { wrongWay: 'src/{{layer}} may import only from {{allowed}}; "{{spec}}" reaches {{target}}. See DESIGN.md section 2.' },
      },
      create(context) {
        const file = context.filename;
        const layer = layerOf(file);
        if (!layer || !LAYERS[layer]) return {};
        const check = (node, spec) => {
          if (typeof spec !== 'string') return;
          let target;
          if (spec.startsWith('@shared/')) target = resolve(src, 'shared', spec.slice('@shared/'.length));
          else if (spec.startsWith('.')) target = resolve(dirname(file), spec);
          else return;
          if (!allowed(layer, target))
            context.report({
              node,
              messageId: 'wrongWay',
              data: { layer, spec, allowed: LAYERS[layer].join(', '), target: relative(root, target) },
            });
        };
        return {
          ImportDeclaration: (n) => check(n, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
          ExportAllDeclaration: (n) => check(n, n.source.value),
          ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
        };
      },
    },
  },
};
