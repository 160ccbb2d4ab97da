import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One runner for unit, integration and browser (Playwright) tests. Tests touch real
// SQLite files, real sharp and real tfjs kernels, so they get generous timeouts and
// run in forked processes (native addons and wasm heaps stay isolated per file).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // Exported ONNX graphs of test models go to a throw-away folder, not the user's cache.
    env: { CYTOTUNE_ONNX_CACHE: join(tmpdir(), 'cytotune-test-onnx-cache') },
  },
});
