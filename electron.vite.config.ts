import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

export default defineConfig({
  main: {
    // The app core and the ML worker (run as a utilityProcess); packages stay in node_modules.
    build: {
      // prepThread: batch classification's preprocessing threads (prepPool.ts looks for it next to its chunk).
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/electron/main.ts'),
          worker: resolve(__dirname, 'src/worker/main.ts'),
          prepThread: resolve(__dirname, 'src/worker/jobs/prepThread.ts'),
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
