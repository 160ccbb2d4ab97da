// Item 5 of the hardening issue: only CytoTune projects open. Another application's SQLite
// file and a zero-byte file are refused and left byte-identical; a damaged project opens with
// a warning; a read-only project opens read-only with a message (checked as an unprivileged
// user, so the permissions are real even when the suite runs as root).
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index';
import { CYTOTUNE_APPLICATION_ID, openDatabase } from '../../../src/main/db/database';
import { latestVersion } from '../../../src/main/db/migrations';
import { importPaths } from '../../../src/main/import/importer';
import { Project } from '../../../src/main/project/project';
import { createInProcessClient } from '../../../src/main/api/inProcessClient';
import { Workspace } from '../../../src/main/api/workspace';
import { herlevDir, tempDir } from '../../support/paths';
import { readOnlyFor, runCli, sha256Of } from './helpers';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

function foreignDatabase(dir: string): string {
  const path = join(dir, 'notes.cytotune');
  const db = new Database(path);
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('a note of another app');`);
  db.pragma('user_version = 3');
  db.close();
  return path;
}

describe('foreign files', () => {
  it('cytotune info on another application’s SQLite file refuses it and leaves it byte-identical', async () => {
    const dir = tempDir();
    const path = foreignDatabase(dir);
    const before = sha256Of(path);
    const { io, err } = captureIo();
    expect(await main(['info', '--project', path], io)).toBe(1);
    expect(err.join('\n')).toMatch(/not a CytoTune project/);
    expect(err).toHaveLength(1); // one line, no stack
    expect(sha256Of(path)).toBe(before);
    expect(readdirSync(dir)).toEqual(['notes.cytotune']); // no -wal, -shm or lock left beside it
  });

  it('the workstation refuses it too, and so does an import into it', async () => {
    const path = foreignDatabase(tempDir());
    const before = sha256Of(path);
    const workspace = new Workspace();
    const client = createInProcessClient(workspace);
    await expect(client.call('project:open', { path })).rejects.toMatchObject({ kind: 'invalid-input', message: /not a CytoTune project/ });
    const { io } = captureIo();
    expect(await main(['import', '--project', path, herlevDir], io)).toBe(1);
    expect(sha256Of(path)).toBe(before);
    workspace.close();
  });

  it('a zero-byte file is not a project, and stays zero bytes', async () => {
    const dir = tempDir();
    const path = join(dir, 'empty.cytotune');
    writeFileSync(path, '');
    expect(() => Project.open(path)).toThrow(/not a CytoTune project \(an empty file\)/);
    expect(() => Project.open(path, { create: true })).toThrow(/not a CytoTune project/);
    expect(readFileSync(path).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['empty.cytotune']);
  });

  it('new projects carry the CytoTune application_id; an existing project gets it by a migration', () => {
    const fresh = join(tempDir(), 'new.cytotune');
    Project.open(fresh, { create: true }).close();
    const check = new Database(fresh, { readonly: true });
    expect(check.pragma('application_id', { simple: true })).toBe(CYTOTUNE_APPLICATION_ID);
    check.close();

    const old = join(tempDir(), 'old.cytotune');
    openDatabase(old, { create: true, targetVersion: 5 }).close();
    const raw = new Database(old, { readonly: true });
    expect(raw.pragma('application_id', { simple: true })).toBe(0); // what projects before this fix hold
    raw.close();
    const project = Project.open(old);
    expect(project.db.pragma('application_id', { simple: true })).toBe(CYTOTUNE_APPLICATION_ID);
    expect(project.info().schemaVersion).toBe(latestVersion);
    project.close();
  });
});

describe('damaged and read-only projects', () => {
  it('a damaged project opens with a warning, and export says so', async () => {
    const path = join(tempDir(), 'damaged.cytotune');
    const project = Project.open(path, { create: true });
    const data = join(tempDir(), 'data');
    cpSync(join(herlevDir, 'normal_columnar'), join(data, 'normal_columnar'), { recursive: true });
    await importPaths(project, [data]);
    const thumbnailsRoot = project.db.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'thumbnails'`).pluck().get() as number;
    const pageSize = project.db.pragma('page_size', { simple: true }) as number;
    project.close();
    const bytes = readFileSync(path);
    for (let i = (thumbnailsRoot - 1) * pageSize; i < thumbnailsRoot * pageSize; i++) bytes[i] = (i * 7919) % 251;
    writeFileSync(path, bytes);

    const damaged = Project.open(path);
    expect(damaged.info().warnings.join('\n')).toMatch(/damaged/);
    damaged.close();
    const { io, out, err } = captureIo();
    expect(await main(['export', '--project', path, '--format', 'csv'], io)).toBe(0);
    expect(err.join('\n')).toMatch(/warning: .*damaged/);
    expect(out.join('\n').split('\n').length).toBeGreaterThan(70); // the labels still export
  });

  it('a read-only project opens read-only with a message instead of "unable to open database file"', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o755); // mkdtemp makes it private to the suite's user
    const dir = join(parent, 'archive');
    mkdirSync(dir);
    const path = join(dir, 'lab.cytotune');
    const project = Project.open(path, { create: true });
    project.createClass({ name: 'NILM' });
    project.close();
    readOnlyFor(path, 0o444);
    readOnlyFor(dir, 0o555);
    try {
      const before = sha256Of(path);
      const r = await runCli(['info', '--project', path, '--json'], { asUser: true });
      expect(r.stderr).not.toMatch(/unable to open database file/);
      expect(r.code).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.project).toMatchObject({ readOnly: true });
      expect(info.project.warnings.join('\n')).toMatch(/read-only/i);
      expect(info.classes.map((c: { name: string }) => c.name)).toEqual(['NILM']);
      const imported = await runCli(['import', '--project', path, herlevDir], { asUser: true });
      expect(imported.code).toBe(1);
      expect(imported.stderr).toMatch(/read-only/);
      expect(imported.stderr.trim().split('\n')).toHaveLength(1);
      expect(sha256Of(path)).toBe(before);
    } finally {
      readOnlyFor(dir, 0o755);
    }
  }, 120_000);

  it('a copy of a project closed cleanly opens read-only from read-only media', () => {
    const src = join(tempDir(), 'lab.cytotune');
    Project.open(src, { create: true }).close();
    expect(existsSync(`${src}-wal`)).toBe(false);
    const copy = join(tempDir(), 'copy.cytotune');
    copyFileSync(src, copy);
    const ro = Project.open(copy, { access: 'read' });
    expect(ro.info()).toMatchObject({ readOnly: true });
    expect(() => ro.createClass({ name: 'x' })).toThrow(/read-only/);
    ro.close();
  });
});
