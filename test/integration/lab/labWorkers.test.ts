// Two GPU workers (`cytotune worker --lab`, child processes) take a lab's training jobs from
// pg-boss; progress comes back by NOTIFY to every watching workstation; kill -9 of the worker
// mid-training -> the other one resumes it from the run's checkpoint, to the same adapter as an
// uninterrupted run of the same request.
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../src/shared/api';
import { PgDb } from '../../../src/main/db/pg/pgDb';
import { herlevDir, slidePath, tempDir } from '../../support/paths';
import { postgresMissing, startPostgres, type PgCluster } from '../../support/postgres';
import { labOverHttp, type LabHarness } from '../../support/servers';
import { killHard, startCytotune } from '../../support/labCli';
import { writeTinyCheckpoint } from '../../support/tinyModel';
import { waitFor } from '../../support/waitFor';

let cluster: PgCluster | null = null;
let h: LabHarness | null = null;
/** The uninterrupted run of the first test: the second classifies with it. */
let trained: { runId: number; classIds: number[] } | null = null;
const workers = new Map<string, { child: ChildProcess; output: () => string }>();
afterAll(async () => {
  for (const w of workers.values()) await killHard(w.child);
  await h?.close();
  cluster?.stop();
});

const adapterSha = (runDir: string) =>
  createHash('sha256')
    .update(readFileSync(join(runDir, 'adapter.safetensors')))
    .digest('hex');

describe.skipIf(postgresMissing)('GPU workers of a lab', () => {
  it(
    'a job whose worker is killed -9 completes on the other from its checkpoint, with the same adapter',
    { timeout: 600_000 },
    async () => {
      cluster = startPostgres();
      h = await labOverHttp(cluster);
      const { client } = h;
      const watcher = h.clientAs('ben');
      const dir = tempDir();
      await client.call('project:create', { path: 'jobs' });
      const data = join(dir, 'data');
      for (const cls of ['normal_superficiel', 'severe_dysplastic']) {
        for (const f of readdirSync(join(herlevDir, cls)).sort().slice(0, 8)) cpSync(join(herlevDir, cls, f), join(data, cls, f));
      }
      await client.call('import:run', { paths: [data] });
      const classIds = (await client.call('classes:list', {})).map((c) => c.id);
      const modelId = (await client.call('models:add', { path: writeTinyCheckpoint(dir) })).id;
      const seen: JobProgress[] = [];
      const seenByBen: JobProgress[] = [];
      client.on('job:progress', (p) => seen.push(p));
      watcher.on('job:progress', (p) => seenByBen.push(p));
      await Promise.all([h.ready(), watcher.eventsReady()]);

      for (const name of ['w1', 'w2']) {
        const w = startCytotune(['worker', '--lab', h.lab.url, '--name', name], /ready/);
        workers.set(name, w);
        await w.ready;
      }
      // Steps past the first checkpoint (every 50 steps), so a kill after it resumes from step 50.
      const request = { modelId, method: 'lora' as const, classIds, settings: { steps: 90, batchSize: 8, lr: 1e-2 } };
      const status = async (runId: number) => (await client.call('runs:get', { runId })).status;

      const straight = await client.call('runs:start', request);
      await waitFor(async () => (await status(straight.id)) === 'completed', 300_000);
      const a = await client.call('runs:get', { runId: straight.id });
      trained = { runId: straight.id, classIds };
      // Progress reached both workstations, in order, up to the last step.
      const steps = seenByBen.filter((e) => e.runId === straight.id && e.step > 0).map((e) => e.step);
      expect(steps.at(-1)).toBe(90);
      expect([...steps].sort((x, y) => x - y)).toEqual(steps);
      expect(seen.some((e) => e.runId === straight.id && e.status === 'completed')).toBe(true);

      const crashed = await client.call('runs:start', request);
      await waitFor(() => seen.some((e) => e.runId === crashed.id && e.step >= 60), 300_000);
      const labDb = new PgDb(h.lab.url, 'cytotune_lab');
      const [{ worker }] = labDb.raw(`SELECT worker FROM worker_jobs`).rows as { worker: string }[];
      labDb.close();
      await killHard(workers.get(worker)!.child);
      const other = [...workers.keys()].find((n) => n !== worker)!;

      await waitFor(async () => (await status(crashed.id)) === 'completed', 300_000);
      expect(workers.get(other)!.output()).toMatch(/retried: its worker stopped/);
      const b = await client.call('runs:get', { runId: crashed.id });
      expect(b.metrics).toMatchObject({ steps: 90 });
      // The retry resumed from step 50 (its first step after the checkpoint), not from the start.
      const resumedAt = seen.filter((e) => e.runId === crashed.id && e.step > 0).map((e) => e.step);
      const drop = resumedAt.findIndex((s, i) => i > 0 && s < resumedAt[i - 1]);
      expect(drop).toBeGreaterThan(0);
      expect(resumedAt[drop]).toBeGreaterThan(50);
      expect(adapterSha(b.adapterPath!)).toBe(adapterSha(a.adapterPath!));
      expect((await client.call('runs:metrics', { runId: crashed.id })).at(-1)?.step).toBe(90);
    },
  );

  it('the surviving worker detects the cells of a slide and classifies them, and a grid of patches', { timeout: 300_000 }, async () => {
    if (!h || !trained) throw new Error('needs the lab and the run of the test before');
    const { client } = h;
    await client.call('import:run', { paths: [slidePath] });
    const slide = (await client.call('images:list', { kind: 'slide' }))[0];
    await client.call('cells:detect', { imageId: slide.id, preset: 'he-histology' });
    await waitFor(async () => (await client.call('cells:runs', { imageId: slide.id }))[0]?.status === 'completed', 240_000);
    const cells = await client.call('cells:list', { imageId: slide.id });
    // CMU-1-Small-Region at the H&E preset: about 2,800 nuclei (README's figure).
    expect(cells.length).toBeGreaterThan(2000);

    await client.call('cells:classify', { runId: trained.runId, imageIds: [slide.id] });
    const byCell = async () =>
      (await client.call('predictions:list', { runId: trained!.runId, imageId: slide.id })).filter((p) => p.cellId);
    await waitFor(async () => (await byCell()).length === cells.length, 240_000);

    const job = await client.call('classify:start', { runId: trained.runId, imageIds: [slide.id], patchSize: 256 });
    await waitFor(async () => (await client.call('jobs:list', {})).find((j) => j.id === job.id)?.status === 'completed', 240_000);
    const grid = (await client.call('predictions:list', { runId: trained.runId, imageId: slide.id })).filter((p) => !p.cellId);
    expect(grid.length).toBeGreaterThan(10);
  });
});
