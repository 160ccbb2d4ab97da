// A lab project on a real PostgreSQL cluster: two workstations (two users, two HTTP clients of
// one lab server) label at once, and every acknowledged label is a row, authored by its user.
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { labOverHttp, type LabHarness } from '../../support/servers';
import { herlevDir, tempDir } from '../../support/paths';
import { postgresMissing, startPostgres, type PgCluster } from '../../support/postgres';
import { Project } from '../../../src/main/project/project';
import { PgDb } from '../../../src/main/db/pg/pgDb';
import { pgDbOf } from '../../../src/main/lab/labJobs';

let cluster: PgCluster | null = null;
afterAll(() => cluster?.stop());

describe.skipIf(postgresMissing)('lab project on PostgreSQL', () => {
  let h: LabHarness;
  afterEach(async () => h?.close());

  it('has the tables and columns of a project file, made by the same migrations', async () => {
    h = await labOverHttp((cluster ??= startPostgres()));
    const info = await h.client.call('project:create', { path: 'study' });
    expect(info.schemaVersion).toBe(Project.open(join(tempDir(), 'x.cytotune'), { create: true }).info().schemaVersion);
    const local = Project.open(join(tempDir(), 'y.cytotune'), { create: true });
    const columns = (rows: { t: string; c: string }[]) => rows.map((r) => `${r.t}.${r.c}`).sort();
    const sqlite = local.db
      .prepare(`SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`)
      .all() as { t: string; c: string }[];
    local.close();
    const pg = new PgDb(h.lab.url, 'project_1');
    const lab = pg
      .prepare(`SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'project_1'`)
      .all() as {
      t: string;
      c: string;
    }[];
    pg.close();
    expect(columns(lab.filter((r) => r.t !== 'schema_version'))).toEqual(columns(sqlite));
  });

  it('loses no label when two users label at once, and audits each with its author', async () => {
    h = await labOverHttp((cluster ??= startPostgres()));
    const ana = h.client;
    const ben = h.clientAs('ben');
    await ana.call('project:create', { path: 'study' });
    await ana.call('import:run', { paths: [join(herlevDir, 'normal_columnar')] });
    const [image] = await ben.call('images:list', { limit: 1 });
    const cls = await ana.call('classes:create', { name: 'Abnormal' });
    const perUser = 60;
    const label = (client: typeof ana, i: number) =>
      client.call('annotations:create', { imageId: image.id, classId: cls.id, box: { x: i % 20, y: 1, w: 10, h: 10 } });
    const acks = await Promise.all(Array.from({ length: perUser * 2 }, (_, i) => label(i % 2 ? ben : ana, i)));
    expect(new Set(acks.map((a) => a.id)).size).toBe(perUser * 2);
    const rows = await ana.call('annotations:list', { imageId: image.id });
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(acks.map((a) => a.id).sort((a, b) => a - b));
    expect(rows.filter((r) => r.author === 'ana')).toHaveLength(perUser);
    expect(rows.filter((r) => r.author === 'ben')).toHaveLength(perUser);
    const audit = await ben.call('audit:list', { limit: 1000 });
    const creates = audit.filter((a) => a.action === 'annotation.create');
    expect(creates).toHaveLength(perUser * 2);
    expect(new Set(audit.filter((a) => a.action === 'class.create').map((a) => a.actor))).toEqual(new Set(['ana']));
  });

  it('queues a job and its jobs row in one transaction: both commit, or neither', async () => {
    h = await labOverHttp((cluster ??= startPostgres()));
    await h.client.call('project:create', { path: 'study' });
    const project = h.workspace.currentProject!;
    const queue = h.workspace.requireCompute().jobs;
    const start = { kind: 'experiment' as const, spec: { options: {} as never } };
    const queued = () => pgDbOf(project).raw(`SELECT count(*) AS n FROM pgboss.job WHERE name = 'cytotune-experiment'`).rows[0].n as number;
    expect(() =>
      project.transaction(() => {
        queue.submit(start, null);
        throw new Error('the action fails after queueing');
      }),
    ).toThrow(/after queueing/);
    expect(project.jobs.list()).toEqual([]);
    expect(queued()).toBe(0);
    const job = queue.submit(start, null);
    expect(project.jobs.list().map((j) => j.id)).toEqual([job.id]);
    expect(pgDbOf(project).raw(`SELECT data FROM pgboss.job WHERE name = 'cytotune-experiment'`).rows).toEqual([
      { data: { project: 'study', jobId: job.id } },
    ]);
  });

  it('resolves two edits of one label as the last one, with both in the audit trail', async () => {
    h = await labOverHttp((cluster ??= startPostgres()));
    const ana = h.client;
    const ben = h.clientAs('ben');
    await ana.call('project:create', { path: 'study' });
    await ana.call('import:run', { paths: [join(herlevDir, 'normal_columnar')] });
    const [image] = await ana.call('images:list', { limit: 1 });
    const a = await ana.call('classes:create', { name: 'A' });
    const b = await ana.call('classes:create', { name: 'B' });
    const label = await ana.call('annotations:create', { imageId: image.id, classId: a.id, box: { x: 1, y: 1, w: 10, h: 10 } });
    const [first, second] = await Promise.all([
      ana.call('annotations:update', { id: label.id, box: { x: 3, y: 3, w: 10, h: 10 } }),
      ben.call('annotations:update', { id: label.id, classId: b.id }),
    ]);
    const final = await ana.call('annotations:get', { id: label.id });
    const updates = (await ana.call('audit:list', {})).filter((e) => e.action === 'annotation.update').reverse();
    expect(updates.map((u) => u.actor).sort()).toEqual(['ana', 'ben']);
    // Serialised by the lab server: the second edit saw the first (its "before" is the first's "after"), and it stands.
    expect(updates[1].before).toEqual(updates[0].after);
    expect(final).toEqual(updates[1].after);
    expect([first, second]).toContainEqual(final);
  });
});
