// Flat config. Besides the usual TypeScript rules it enforces the process boundaries of
// DESIGN.md: shared code is pure, the renderer never touches Node or Electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeOnly = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'net', 'url', 'worker_threads', 'stream', 'events'];
const nativeOrHeavy = ['electron', 'better-sqlite3', 'sharp', 'koffi', 'onnxruntime-node', 'ws', '@tensorflow/*', 'playwright-core'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'bench/results/**', '.scratch/**', '**/*.tmp.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: [...nodeOnly, ...nativeOrHeavy], message: 'src/shared is pure TypeScript: no Node, Electron, native or tfjs imports.' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: [...nodeOnly, 'electron'], message: 'The renderer talks only to the API client: no Node or Electron.' }] },
      ],
    },
  },
);
