// Playwright's _electron smoke test: runs only where Electron's binary exists (it cannot
// be downloaded on machines that reach only the npm registry); elsewhere the test name
// says it was skipped and why.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { _electron } from 'playwright-core';
import { repoRoot, tempDir } from '../support/paths';

function electronBinary(): { path?: string; reason?: string } {
  try {
    const path = createRequire(join(repoRoot, 'package.json'))('electron') as string;
    if (!existsSync(path)) return { reason: `binary missing at ${path}` };
    if (process.platform === 'linux' && !process.env.DISPLAY) return { reason: 'no DISPLAY for a window' };
    return { path };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0] };
  }
}

const electron = electronBinary();
const name = electron.path
  ? 'Electron window opens the app with an isolated, sandboxed renderer'
  : `Electron smoke test SKIPPED: no usable Electron binary here (${electron.reason})`;

if (!electron.path) console.warn(name);

describe('Electron shell', () => {
  it.skipIf(!electron.path)(name, async () => {
    const build = spawnSync(process.execPath, [join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
      cwd: repoRoot,
    });
    expect(build.status).toBe(0);
    const app = await _electron.launch({
      executablePath: electron.path,
      args: [repoRoot, '--no-sandbox'],
      env: { ...process.env, CYTOTUNE_PROJECT: join(tempDir(), 'electron.cytotune') },
    });
    const page = await app.firstWindow();
    await page.getByTestId('project-name').waitFor();
    expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as unknown as { cytotune?: { call: unknown } }).cytotune?.call)).toBe('function');
    await app.close();
  });
});
