// Flat config. Besides the usual TypeScript rules it enforces the process boundaries of
// DESIGN.md: shared code is pure, the renderer never touches Node or Electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import { layerPlugin } from './scripts/lint/layers.js';

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
    // Imports run one way between the layers of src/ (scripts/lint/layers.js).
    files: ['src/**/*.{ts,tsx}'],
    plugins: { layers: layerPlugin },
    rules: { 'layers/one-way': 'error' },
  },
  {
    files: ['src/main/**/*.ts', 'src/electron/**/*.ts', 'src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/*', 'onnxruntime-node', 'webgpu'],
              message: 'The app core never loads an ML runtime: run it in the worker through a job.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...nodeOnly, ...nativeOrHeavy],
              message: 'src/shared is pure TypeScript: no Node, Electron, native or tfjs imports.',
            },
          ],
        },
      ],
    },
  },
  {
    // The rules of hooks and complete effect dependencies (the compiler-era rules of v7 are not on).
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
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
