// The application core never loads an ML runtime: src/main reaches the ML only through jobs
// in the worker process, so the server that owns the database stays small and responsive.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../support/paths';

describe('the browser-mode server', () => {
  it('starts, serves a project and inspects a checkpoint without loading @tensorflow/*, onnxruntime or a checkpoint parser', () => {
    const project = join(tempDir(), 'p.cytotune');
    const stdout = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/support/recordModules.mjs',
        'test/support/startServerProbe.ts',
        project,
        join(repoRoot, 'out/renderer'),
        join(repoRoot, 'test/fixtures/ml/timm-vit.safetensors'),
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    const { loaded } = JSON.parse(stdout) as { loaded: string[] };
    // The probe works: it saw the server's own modules.
    expect(loaded.some((u) => u.includes('/src/main/server/httpServer.ts'))).toBe(true);
    expect(loaded.filter((u) => /@tensorflow|onnxruntime/.test(u))).toEqual([]);
    // Checkpoints from outside are parsed in a child process (src/worker/inspect.ts), never here.
    expect(loaded.filter((u) => u.includes('/src/ml/checkpoint/'))).toEqual([]);
  });
});
