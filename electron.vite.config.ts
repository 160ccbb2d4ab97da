import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

export default defineConfig({
  main: {
    // The app core, the ML worker (run as a utilityProcess) and the cell preview's worker thread
    // (found next to index.js by cellPreviewThread.ts); packages stay in node_modules.
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/electron/main.ts'),
          worker: resolve(__dirname, 'src/worker/main.ts'),
          cellPreviewWorker: resolve(__dirname, 'src/main/project/cellPreviewWorker.ts'),
          // Batch classification's preprocessing threads (prepPool.ts looks for it next to its chunk).
          prepThread: resolve(__dirname, 'src/ml/inference/prepThread.ts'),
        },
      },
    },
  },
  preload: {
    // Sandboxed preloads cannot require packages: bundle everything except electron, as CommonJS.
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig,
});
