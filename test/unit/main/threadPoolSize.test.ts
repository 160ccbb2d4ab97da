// UV_THREADPOOL_SIZE at start-up: one thread per core unless the user chose, and the installed
// command (bin/cytotune.cjs) sets it before running the CLI.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureThreadPoolSize, threadPoolSize } from '../../../src/main/threadPoolSize.mjs';
import { repoRoot } from '../../support/paths';

describe('threadPoolSize', () => {
  it('is the core count, at least libuv default 4, at most 1024', () => {
    expect(threadPoolSize({}, 16)).toBe('16');
    expect(threadPoolSize({}, 2)).toBe('4');
    expect(threadPoolSize({}, 4096)).toBe('1024');
  });

  it("never overrides the user's value", () => {
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '3' }, 16)).toBeNull();
    const env: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: '3' };
    expect(ensureThreadPoolSize(env)).toBe(3);
    expect(env.UV_THREADPOOL_SIZE).toBe('3');
    const unset: Record<string, string | undefined> = {};
    expect(ensureThreadPoolSize(unset)).toBe(Math.max(4, availableParallelism()));
  });

  it('bin/cytotune.cjs, which sets it before loading the CLI, runs the command', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CYTOTUNE_CLI: 'tsx' };
    delete env.UV_THREADPOOL_SIZE;
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/cytotune.cjs'), '--version'], { cwd: repoRoot, encoding: 'utf8', env });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
