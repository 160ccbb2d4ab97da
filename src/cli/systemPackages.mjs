// The system packages of scripts/system-packages.txt: which are installed (one dpkg-query call,
// no network), and installing the missing ones as root (`apt-get update` once, quiet).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Plain JavaScript (with systemPackages.d.mts for TypeScript) because npm test and .ci/run use it
// before anything is built. The list itself is scripts/system-packages.txt.
const listPath = join(import.meta.dirname, '../../scripts/system-packages.txt');

/** @returns {{ name: string, need: 'product' | 'tests', provides: string, tests: string[], purpose: string }[]} */
export function systemPackages() {
  return readFileSync(listPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => {
      const [name, need, provides, tests, purpose] = line.split('|').map((s) => s.trim());
      return { name, need, provides, tests: tests === '-' ? [] : tests.split(',').map((s) => s.trim()), purpose };
    });
}

/** Names of listed packages dpkg does not report installed (all of them where dpkg is absent). */
export function missingPackages(names = systemPackages().map((p) => p.name)) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...names], { encoding: 'utf8' });
  if (r.error) return names;
  // One line per known package: "<name> ii " when installed (dpkg's want/state letters).
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([, status]) => status === 'ii')
      .map(([name]) => name),
  );
  return names.filter((n) => !installed.has(n));
}

export function canInstall() {
  return process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function installCommand(names) {
  return `apt-get update && apt-get install -y --no-install-recommends ${names.join(' ')}`;
}

/** Installs `names` non-interactively; throws with apt's last lines when it fails. */
export function install(names) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    try {
      execFileSync('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const tail = String(err.stderr ?? err.stdout ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join('\n');
      throw new Error(`apt-get ${args[0]} failed: ${tail}`);
    }
  };
  run(['update', '-qq']);
  run(['install', '-y', '-qq', '--no-install-recommends', ...names]);
}
