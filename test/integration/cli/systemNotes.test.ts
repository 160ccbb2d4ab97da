// What `npm start` (serve) and `doctor` say about missing product packages. dpkg-query is the
// boundary: a stand-in on PATH reports libopenslide0 as not installed, as on a bare machine.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../support/paths';

function withFakeDpkg(installed: string[]): NodeJS.ProcessEnv {
  const bin = tempDir();
  const lines = installed.map((p) => `echo "${p} ii "`).join('\n');
  writeFileSync(join(bin, 'dpkg-query'), `#!/bin/sh\n${lines}\n`);
  chmodSync(join(bin, 'dpkg-query'), 0o755);
  return { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` };
}

describe('system notes (fake dpkg-query on PATH)', () => {
  it('name each missing product package, what is lost without it and the command that adds it', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '-e', "const m = await import('./src/cli/systemNotes.ts'); console.log(JSON.stringify(m.systemNotes()));"],
      {
        cwd: repoRoot,
        env: withFakeDpkg(['chromium', 'fonts-dejavu-core', 'libopenblas0']),
        encoding: 'utf8',
      },
    );
    const notes = JSON.parse(out) as string[];
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^libopenslide0 is not installed: OpenSlide: every whole-slide format .*Add it: apt-get update && apt-get install -y --no-install-recommends libopenslide0$/,
    );
  });

  it('say nothing when every product package is installed (tests-only packages do not count)', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '-e', "const m = await import('./src/cli/systemNotes.ts'); console.log(JSON.stringify(m.systemNotes()));"],
      {
        cwd: repoRoot,
        env: withFakeDpkg(['libopenslide0', 'libopenblas0']),
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(out)).toEqual([]);
  });
});
