// Hardening item 3, files: a run's files are written to a temporary file, flushed and renamed,
// so a failing write (here a real one: a child process under a file-size limit, as a full disk
// fails it) leaves the previous file whole and no partial file behind; partial files a crash
// left in a project's runs folder are removed when the project opens.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src/main/project/project';
import { repoRoot, tempDir } from '../../support/paths';

describe('atomic file writes', () => {
  it('a write that fails part-way leaves the old file whole and no temporary file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), '{"old":true}\n');
    writeFileSync(join(dir, 'head.safetensors'), 'old head');
    const probe = join(repoRoot, 'test/integration/hardening/atomicWriteProbe.ts');
    // 64 KiB: enough for node to start, too little for the new files. SIGXFSZ ignored: writes fail with EFBIG.
    const run = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 64; exec "${process.execPath}" --import tsx "${probe}" "${dir}"`], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(JSON.parse(run.stdout)).toEqual({ json: 'EFBIG', bytes: 'EFBIG' });
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"old":true}\n');
    expect(readFileSync(join(dir, 'head.safetensors'), 'utf8')).toBe('old head');
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'head.safetensors']);
  });

  it('partial files left by a crash in the runs folder are removed when the project opens', () => {
    const path = join(tempDir(), 'lab.cytotune');
    Project.open(path, { create: true }).close();
    const run = join(tempDir(), 'x'); // not the runs folder: left alone
    mkdirSync(run);
    writeFileSync(join(run, 'config.json.tmp-123-abcd'), '');
    const runs = path.replace(/\.cytotune$/, '.runs');
    mkdirSync(join(runs, 'run-1'), { recursive: true });
    writeFileSync(join(runs, 'run-1', 'config.json'), '{}');
    writeFileSync(join(runs, 'run-1', 'config.json.tmp-4242-0a1b2c3d'), '');
    writeFileSync(join(runs, 'run-1', 'checkpoint.safetensors.tmp-4242-1700000000000'), 'half');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(`${path}.lock.new-${dead}-deadbeef`, '');
    const project = Project.open(path);
    expect(readdirSync(join(runs, 'run-1'))).toEqual(['config.json']);
    expect(existsSync(`${path}.lock.new-${dead}-deadbeef`)).toBe(false);
    expect(existsSync(join(run, 'config.json.tmp-123-abcd'))).toBe(true);
    project.close();
  });
});
