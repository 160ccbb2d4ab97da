// Item 4 of the hardening issue: two processes on one project. The first instance holds the
// project lock (pid, host, heartbeat); a second `serve` opens the file read-only and says who
// holds it, refuses every write (a run's resume included) and leaves the first instance's live
// runs alone. A lock left by a dead process is taken over. Write transactions BEGIN IMMEDIATE.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessClient } from '../../../src/main/api/inProcessClient';
import { Workspace } from '../../../src/main/api/workspace';
import { Project } from '../../../src/main/project/project';
import { lockPathOf } from '../../../src/main/project/projectLock';
import { tempDir } from '../../support/paths';
import { apiCall, runCli, startServe } from './helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a second instance on the same project', () => {
  it('a second serve opens it read-only, names the holder, and refuses writes', async () => {
    const path = join(tempDir(), 'shared.cytotune');
    const first = await startServe(['--project', path]);
    cleanups.push(first.stop);
    expect((await apiCall(first.url, 'classes:create', { name: 'NILM' })).ok).toBe(true);

    const second = await startServe(['--project', path]);
    cleanups.push(second.stop);
    expect(second.output()).toMatch(new RegExp(`read-only.*process ${first.child.pid}`, 's'));
    const info = await apiCall(second.url, 'project:current');
    expect(info.value).toMatchObject({ readOnly: true });
    // Reads work; writes are refused with who holds the project.
    expect((await apiCall<{ name: string }[]>(second.url, 'classes:list')).value!.map((c) => c.name)).toEqual(['NILM']);
    const write = await apiCall(second.url, 'classes:create', { name: 'HSIL' });
    expect(write.error).toMatchObject({ kind: 'conflict' });
    expect(write.error!.message).toMatch(new RegExp(`read-only.*${first.child.pid}`));
    // The first instance still writes.
    expect((await apiCall(first.url, 'classes:create', { name: 'LSIL' })).ok).toBe(true);

    // A headless import is refused outright, naming the holder.
    const imported = await runCli(['import', '--project', path, '/nonexistent']);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(new RegExp(`open in CytoTune.*${first.child.pid}`));
  }, 120_000);

  it('leaves the first instance’s live run alone and refuses to resume it', async () => {
    const path = join(tempDir(), 'runs.cytotune');
    const a = new Workspace({ projectPath: path });
    cleanups.push(() => a.close());
    // A run the first instance is training right now (as its job manager records it).
    const db = a.currentProject!.db;
    db.exec(
      `INSERT INTO runs (id, model_id, config_json, seed, status, created_at, updated_at) VALUES (7, NULL, '{}', 1, 'running', 'now', 'now');
       INSERT INTO jobs (kind, run_id, status, spec_json, created_at, updated_at) VALUES ('train', 7, 'running', '{}', 'now', 'now');`,
    );
    const b = new Workspace({ projectPath: path });
    cleanups.push(() => b.close());
    const client = createInProcessClient(b);
    expect(await client.call('project:current', {})).toMatchObject({ readOnly: true });
    await expect(client.call('runs:resume', { runId: 7 })).rejects.toMatchObject({ kind: 'conflict', message: /read-only/ });
    expect(await client.call('jobs:list', {})).toEqual([expect.objectContaining({ runId: 7, status: 'running' })]);
    expect(db.prepare(`SELECT status FROM runs WHERE id = 7`).pluck().get()).toBe('running');
    expect(db.prepare(`SELECT status FROM jobs WHERE run_id = 7`).pluck().get()).toBe('running');
  });

  it('takes over a lock left by a process that died', () => {
    const path = join(tempDir(), 'stale.cytotune');
    Project.open(path, { create: true }).close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const stale = { app: 'cytotune', pid: Number(dead), host: hostname(), user: 'ana', startedAt: new Date().toISOString() };
    writeFileSync(lockPathOf(path), JSON.stringify({ ...stale, heartbeatAt: new Date().toISOString() }));
    const project = Project.open(path);
    expect(project.readOnly).toBe(false);
    expect(JSON.parse(readFileSync(lockPathOf(path), 'utf8'))).toMatchObject({ pid: process.pid });
    project.close();
  });

  it('write transactions take the write lock at BEGIN (IMMEDIATE), not at their first write', () => {
    const path = join(tempDir(), 'immediate.cytotune');
    const project = Project.open(path, { create: true });
    const other = new Database(path, { timeout: 0 });
    let otherCouldWrite: boolean | null = null;
    project.transaction(() => {
      try {
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
        otherCouldWrite = true;
      } catch {
        otherCouldWrite = false;
      }
    });
    expect(otherCouldWrite).toBe(false);
    other.close();
    project.close();
  });
});
