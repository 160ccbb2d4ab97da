// Training and classification from the workstation with the real worker process and a tiny
// model: progress in order, cancel within one step, resume to the same step count, a worker
// killed with SIGKILL fails the run cleanly and the next job succeeds; slide classification
// stores one prediction per tissue patch and none on background.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/shared/api';
import type { ClassifyJobResult } from '../../src/shared/jobs';
import { patchesOf } from '../../src/ml/inference/classifyTargets';
import type { FeatureCollection } from '../../src/main/export/geojson';
import { createMediaRoutes } from '../../src/main/media/mediaRoutes';
import { herlevDir, slidePath, tempDir } from '../support/paths';
import { inProcess, type Harness } from '../support/servers';
import { twoClassProject } from '../support/trainingProject';
import { waitFor } from '../support/waitFor';

let h: Harness;
let modelId: number;
let classIds: number[];
const events: JobProgress[] = [];

const runStatus = async (runId: number) => (await h.client.call('runs:get', { runId })).status;

beforeAll(async () => {
  h = inProcess();
  // Two Herlev classes, 8 images each.
  ({ classIds, modelId } = await twoClassProject(h.client, tempDir(), 'jobs.cytotune'));
  h.client.on('job:progress', (p) => events.push(p));
});
afterAll(async () => h.close());

describe('training jobs in the worker process', () => {
  it('refuses a checkpoint that is not a model, with the reason', async () => {
    await expect(
      h.client.call('models:add', { path: join(herlevDir, 'normal_columnar', readdirSync(join(herlevDir, 'normal_columnar'))[0]) }),
    ).rejects.toMatchObject({ kind: 'invalid-input' });
  });

  it('shows the plan: labels per class split into training and validation', async () => {
    expect(await h.client.call('training:plan', { classIds })).toEqual([
      expect.objectContaining({ name: 'normal_superficiel', train: 4, val: 4 }),
      expect.objectContaining({ name: 'severe_dysplastic', train: 4, val: 4 }),
    ]);
  });

  it('trains with progress events in order and stores per-step metrics and the run', async () => {
    const run = await h.client.call('runs:start', { modelId, method: 'lora', classIds, settings: { steps: 24, batchSize: 8, lr: 1e-2 } });
    await waitFor(async () => (await runStatus(run.id)) === 'completed');
    const mine = events.filter((e) => e.runId === run.id && e.step > 0 && e.kind === 'train');
    expect(mine.length).toBeGreaterThan(1);
    for (let i = 1; i < mine.length; i++) expect(mine[i].step).toBeGreaterThanOrEqual(mine[i - 1].step);
    expect(mine.at(-1)).toMatchObject({ step: 24, total: 24 });
    const done = await h.client.call('runs:get', { runId: run.id });
    expect(done.metrics).toMatchObject({ steps: 24, classNames: ['normal_superficiel', 'severe_dysplastic'] });
    const metrics = await h.client.call('runs:metrics', { runId: run.id });
    expect(metrics.at(-1)?.step).toBe(24);
  });

  it('cancels within one step and resumes from the checkpoint to the same step count', async () => {
    const run = await h.client.call('runs:start', { modelId, method: 'lora', classIds, settings: { steps: 400, batchSize: 8 } });
    await waitFor(() => events.some((e) => e.runId === run.id && e.step >= 2));
    await h.client.call('runs:cancel', { runId: run.id });
    await waitFor(async () => (await runStatus(run.id)) === 'cancelled');
    // The worker reports the step it was on when the cancel arrived and the step it stopped at.
    const [, stoppedAt, askedAt] = /Cancelled at step (\d+) \(asked at step (\d+)\)/
      .exec((await h.client.call('runs:get', { runId: run.id })).error ?? '')!
      .map(Number);
    expect(stoppedAt - askedAt).toBeLessThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(400);

    await h.client.call('runs:resume', { runId: run.id });
    await waitFor(async () => (await runStatus(run.id)) === 'completed', 240_000);
    const final = await h.client.call('runs:get', { runId: run.id });
    expect(final.metrics).toMatchObject({ steps: 400 });
  }, 300_000);

  it('marks the run failed when the worker is killed with SIGKILL, and the next job succeeds', async () => {
    const run = await h.client.call('runs:start', { modelId, method: 'lora', classIds, settings: { steps: 400, batchSize: 8 } });
    await waitFor(() => events.some((e) => e.runId === run.id && e.step >= 1));
    const compute = h.workspace.requireCompute();
    process.kill(compute.jobs.workerPid!, 'SIGKILL');
    await waitFor(async () => (await runStatus(run.id)) === 'failed');
    const failed = await h.client.call('runs:get', { runId: run.id });
    expect(failed.error).toMatch(/worker process killed by SIGKILL/);
    expect(h.workspace.currentProject!.db.pragma('integrity_check', { simple: true })).toBe('ok');

    const next = await h.client.call('runs:start', { modelId, method: 'linear', classIds, settings: { epochs: 3, batchSize: 8 } });
    await waitFor(async () => (await runStatus(next.id)) === 'completed');
  }, 200_000);
});

describe('classification jobs', () => {
  it('classify the whole slide: one prediction per tissue patch, none on background', async () => {
    const run = (await h.client.call('runs:list', {})).find((r) => r.status === 'completed')!;
    await h.client.call('import:run', { paths: [slidePath] });
    const slide = (await h.client.call('images:list', { limit: 1000 })).find((i) => i.kind === 'slide')!;
    const job = await h.client.call('classify:start', { runId: run.id, imageIds: [slide.id], patchSize: 224 });
    await waitFor(async () => (await h.client.call('jobs:list', {})).find((j) => j.id === job.id)!.status === 'completed', 240_000);

    const expected = await patchesOf(
      { imageId: slide.id, path: slide.path, kind: 'slide', width: slide.width, height: slide.height },
      { runDir: '', images: [], patchSize: 224 },
    );
    const predictions = await h.client.call('predictions:list', { runId: run.id, imageId: slide.id });
    expect(expected.boxes.length).toBeGreaterThan(10);
    expect(expected.boxes.length).toBeLessThan(expected.grid); // some of the grid is glass
    expect(predictions.map((p) => p.box)).toEqual(expected.boxes);
    for (const p of predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    // The least certain first; accepting one makes it a label.
    const queue = await h.client.call('predictions:review', { runId: run.id, imageId: slide.id, limit: 5 });
    expect(queue[0].entropy).toBeGreaterThanOrEqual(queue[4].entropy);
    const label = await h.client.call('predictions:accept', { predictionId: queue[0].id });
    expect(label).toMatchObject({ source: 'accepted-prediction', box: queue[0].box, classId: queue[0].classId });
  }, 300_000);
});

describe('export and import', () => {
  it('exports every label and prediction as CSV rows and as valid QuPath GeoJSON', async () => {
    const info = await h.client.call('project:info', {});
    const runs = await h.client.call('runs:list', {});
    let predictions = 0;
    for (const r of runs) predictions += (await h.client.call('predictions:list', { runId: r.id })).length;
    expect(predictions).toBeGreaterThan(10);
    const expected = info.counts.annotations + predictions;

    const csv = await h.client.call('export:labels', { format: 'csv' });
    const lines = csv.text.trimEnd().split('\r\n');
    // The fixed columns, then the cells' own, then one probability column per class of the runs.
    expect(lines[0]).toMatch(
      /^type,image_id,image_path,class,class_path,x,y,width,height,source,author,run_id,probability,entropy,created_at,cell_id,cell_x,cell_y,area_um2,mean_od,circularity(,p_[^,]+)+$/,
    );
    expect(lines).toHaveLength(expected + 1);
    expect(lines.filter((l) => l.startsWith('prediction,'))).toHaveLength(predictions);

    const geo = JSON.parse((await h.client.call('export:labels', { format: 'geojson' })).text) as FeatureCollection;
    expect(geo.type).toBe('FeatureCollection');
    expect(geo.features).toHaveLength(expected);
    for (const f of geo.features) {
      expect(f.type).toBe('Feature');
      if (f.geometry.type !== 'Polygon') throw new Error(`a box exports as a polygon, got ${f.geometry.type}`);
      const ring = f.geometry.coordinates[0];
      expect(ring).toHaveLength(5);
      expect(ring[0]).toEqual(ring[4]);
      for (const [x, y] of ring) expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
      const cls = f.properties.classification as { name: string; color: number[] };
      expect(typeof cls.name).toBe('string');
      expect(cls.color).toHaveLength(3);
      for (const c of cls.color) expect(Number.isInteger(c) && c >= 0 && c <= 255).toBe(true);
      expect(['annotation', 'detection']).toContain(f.properties.objectType);
    }
  });

  it('moves a trained adapter to another project with the same base model, which then classifies identically', async () => {
    const run = (await h.client.call('runs:list', {})).find((r) => r.status === 'completed' && r.config.method === 'lora')!;
    const { path } = await h.client.call('runs:exportAdapter', { runId: run.id });
    const slide = (await h.client.call('images:list', { limit: 1000 })).find((i) => i.kind === 'slide')!;
    const job = await h.client.call('classify:start', { runId: run.id, imageIds: [slide.id] });
    await waitFor(async () => (await h.client.call('jobs:list', {})).find((j) => j.id === job.id)!.status === 'completed', 240_000);
    const original = await h.client.call('predictions:list', { runId: run.id, imageId: slide.id });

    const other = inProcess();
    try {
      const dir = tempDir();
      await other.client.call('project:create', { path: join(dir, 'other.cytotune') });
      await expect(other.client.call('runs:importAdapter', { path })).rejects.toMatchObject({ kind: 'conflict' });
      const model = (await h.client.call('models:list', {}))[0];
      await other.client.call('models:add', { path: model.path });
      const imported = await other.client.call('runs:importAdapter', { path });
      expect(imported.status).toBe('completed');
      await other.client.call('import:run', { paths: [slidePath] });
      const otherSlide = (await other.client.call('images:list', {}))[0];
      const otherJob = await other.client.call('classify:start', { runId: imported.id, imageIds: [otherSlide.id] });
      await waitFor(
        async () => (await other.client.call('jobs:list', {})).find((j) => j.id === otherJob.id)!.status === 'completed',
        240_000,
      );
      const again = await other.client.call('predictions:list', { runId: imported.id, imageId: otherSlide.id });
      expect(again.map((p) => p.box)).toEqual(original.map((p) => p.box));
      again.forEach((p, i) => p.probabilities.forEach((q, k) => expect(q).toBeCloseTo(original[i].probabilities[k], 5)));
      // The job results say which engine classified and why; the bundle carried the int8 check.
      const engineOf = async (c: typeof h.client, id: number) =>
        ((await c.call('jobs:list', {})).find((j) => j.id === id)!.result as ClassifyJobResult).engine!;
      const [first, second] = [await engineOf(h.client, job.id), await engineOf(other.client, otherJob.id)];
      expect(first.reason).toMatch(
        /^(int8: the stored check passed|full precision: the stored int8 check did not pass), \d+\.\d % agreement with full precision/,
      );
      expect(second).toMatchObject({ name: first.name, reason: first.reason });
    } finally {
      await other.close();
    }
  }, 300_000);
});

describe('experiments from the workstation', () => {
  it('runs the paper grid in the worker and serves its summary and figures', async () => {
    const data = join(tempDir(), 'grid');
    for (const cls of ['normal_columnar', 'light_dysplastic', 'carcinoma_in_situ']) {
      for (const f of readdirSync(join(herlevDir, cls)).sort().slice(0, 12)) cpSync(join(herlevDir, cls, f), join(data, cls, f));
    }
    const job = await h.client.call('experiments:start', {
      dataDir: data,
      modelIds: [modelId],
      methods: ['linear', 'lora'],
      shots: [1, 2],
      seeds: [1],
      lrs: [1e-2, 1e-3],
      iters: 3,
    });
    await waitFor(
      async () => !['queued', 'running'].includes((await h.client.call('jobs:list', {})).find((j) => j.id === job.id)!.status),
      240_000,
    );
    const done = (await h.client.call('jobs:list', {})).find((j) => j.id === job.id)!;
    expect(done).toMatchObject({ status: 'completed', error: null });
    expect(events.filter((e) => e.jobId === String(job.id) && e.step > 0).length).toBeGreaterThan(0);
    const summary = await h.client.call('experiments:summary', { id: job.id });
    expect(summary.markdown).toMatch(/linear/i);
    expect(summary.figures).toContain('fig-shots.png');
    const media = createMediaRoutes(h.workspace);
    const png = await media(`/experiments/${job.id}/fig-shots.png`);
    expect(png?.status).toBe(200);
    expect((png!.body as Buffer).subarray(1, 4).toString()).toBe('PNG');
    expect((await media(`/experiments/${job.id}/results.png`))?.status).toBe(404);
    expect(await media(`/experiments/${job.id}/..%2Fsummary.md`)).toBeNull();
  }, 300_000);
});
