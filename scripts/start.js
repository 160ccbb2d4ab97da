#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is present (fetching it once when it
// is missing and we are online), otherwise browser mode, with one line saying where to
// point the browser and why Electron was not used.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureThreadPoolSize } from '../src/main/threadPoolSize.mjs';

// Before Electron or browser mode starts: they inherit it, so their libuv pools (sharp's tile
// and thumbnail encodes) start with one thread per core (src/main/threadPoolSize.mjs).
ensureThreadPoolSize();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const passThrough = process.argv.slice(2);

function electronBinary() {
  if (process.env.CYTOTUNE_BROWSER === '1') return { reason: 'CYTOTUNE_BROWSER=1 asks for browser mode' };
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { reason: 'the optional electron package is not installed' };
  }
  const locate = () => {
    try {
      const path = require('electron');
      return typeof path === 'string' && existsSync(path) ? path : null;
    } catch {
      return null;
    }
  };
  let path = locate();
  if (!path) {
    // Try the download once; it fails fast on machines that reach only the npm registry.
    const fetch = spawnSync(process.execPath, [join(pkgDir, 'install.js')], { stdio: 'ignore', timeout: 120_000 });
    path = fetch.status === 0 ? locate() : null;
    if (!path) return { reason: "Electron's binary is not installed and could not be downloaded (offline?)" };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'there is no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  }
  return { path };
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const electron = electronBinary();
if (electron.path) {
  run(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build']);
  const child = spawn(electron.path, [root, ...passThrough], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  run(process.execPath, [
    join(root, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    'vite.renderer.config.ts',
    '--logLevel',
    'error',
  ]);
  const child = spawn(process.execPath, [join(root, 'bin/cytotune.js'), 'serve', ...passThrough], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    process.stdout.write(text.replace(/(open http\S+)/, `$1  (Electron not used: ${electron.reason})`));
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}
