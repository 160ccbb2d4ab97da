// bin/cytotune.js as a user runs it: through tsx from the sources, or the out/cli bundle
// (`npm run build:cli`) when one exists; both answer --help and --version the same way.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/paths';

const run = (args: string[], mode: 'tsx' | 'built') =>
  spawnSync(process.execPath, [join(repoRoot, 'bin/cytotune.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, CYTOTUNE_CLI: mode },
  });
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
const built = existsSync(join(repoRoot, 'out/cli/index.js'));

describe('bin/cytotune.js', () => {
  it('from the sources (tsx): --version, --help, and exit 2 on an unknown command', () => {
    expect(run(['--version'], 'tsx')).toMatchObject({ status: 0, stdout: `${version}\n` });
    expect(run(['--help'], 'tsx')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: cytotune <command>/) });
    expect(run(['nope'], 'tsx')).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown command "nope"/) });
  });

  it.skipIf(!built)('the bundle gives the same answers', () => {
    expect(run(['--version'], 'built')).toMatchObject({ status: 0, stdout: `${version}\n` });
    expect(run(['--help'], 'built').stdout).toBe(run(['--help'], 'tsx').stdout);
    expect(run(['predict', '--bogus'], 'built')).toMatchObject({
      status: 2,
      stderr: 'predict: unknown option --bogus (see `cytotune predict --help`)\n',
    });
  });
});
