// The cell loop through the API with the real worker process: detect the cells of a synthetic
// liquid-based-cytology slide, label a few, train, classify every detected cell, rank them in
// the gallery, list and review the case.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticLbcSlide, type SyntheticSlide } from '../../scripts/synthetic-lbc-slide';
import type { CellRecord } from '../../src/shared/cells';
import { herlevDir, tempDir } from '../support/paths';
import { inProcess, type Harness } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';

let h: Harness;
let slide: SyntheticSlide;
let imageId: number;
let cells: CellRecord[];
const classes: Record<string, number> = {};

async function waitForJob(kind: string, count: number, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const jobs = (await h.client.call('jobs:list', {})).filter((j) => j.kind === kind);
    if (jobs.length >= count && jobs.every((j) => !['queued', 'running'].includes(j.status))) return jobs[0];
    if (Date.now() > end) throw new Error(`timed out waiting for ${kind}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const dir = tempDir();
  const crops = join(dir, 'crops');
  for (const cls of ['normal_superficiel', 'severe_dysplastic']) {
    mkdirSync(join(crops, cls), { recursive: true });
    cpSync(join(herlevDir, cls), join(crops, cls), { recursive: true });
  }
  slide = await generateSyntheticLbcSlide({ out: join(dir, 'lbc.tiff'), cells: 60, seed: 3, sourceDir: crops, mpp: 0.5 });
  h = inProcess();
  await h.client.call('project:create', { path: join(dir, 'cells.cytotune') });
  await h.client.call('import:run', { paths: [slide.path] });
  imageId = (await h.client.call('images:list', {}))[0].id;
  for (const name of ['normal', 'abnormal']) classes[name] = (await h.client.call('classes:create', { name })).id;
  h.client.call('models:list', {});
  (globalThis as { modelPath?: string }).modelPath = writeTinyCheckpoint(dir);
}, 180_000);
afterAll(async () => h.close());

describe('cells through the workstation API', () => {
  it('detects the cells of a slide as a recorded detection run', async () => {
    const run = await h.client.call('cells:detect', { imageId });
    expect(run).toMatchObject({ imageId, status: 'queued', level: 0 });
    await waitForJob('detect', 1);
    const [done] = await h.client.call('cells:runs', { imageId });
    expect(done.status).toBe('completed');
    cells = await h.client.call('cells:list', { imageId });
    expect(done.cellCount).toBe(cells.length);
    expect(cells.length).toBeGreaterThanOrEqual(Math.round(0.9 * slide.cells.length));
    expect(cells.length).toBeLessThanOrEqual(Math.round(1.2 * slide.cells.length));
    // A viewport query returns only the cells whose centre is inside it.
    const half = await h.client.call('cells:list', { imageId, region: { x: 0, y: 0, w: slide.width / 2, h: slide.height } });
    expect(half.every((c) => c.x < slide.width / 2)).toBe(true);
  });

  it('labels a few cells per class, trains, classifies every cell, ranks the gallery and reviews the case', async () => {
    // Label the detected cell nearest to each of 6 planted cells per class.
    const side = 64;
    for (const [cls, name] of [
      ['normal_superficiel', 'normal'],
      ['severe_dysplastic', 'abnormal'],
    ] as const) {
      for (const truth of slide.cells.filter((c) => c.className === cls).slice(0, 6)) {
        const near = cells.reduce((a, b) => (Math.hypot(b.x - truth.x, b.y - truth.y) < Math.hypot(a.x - truth.x, a.y - truth.y) ? b : a));
        await h.client.call('annotations:create', {
          imageId,
          classId: classes[name],
          box: { x: Math.round(near.x - side / 2), y: Math.round(near.y - side / 2), w: side, h: side },
        });
      }
    }
    const model = await h.client.call('models:add', { path: (globalThis as { modelPath?: string }).modelPath! });
    const run = await h.client.call('runs:start', {
      modelId: model.id,
      method: 'linear',
      classIds: [classes.normal, classes.abnormal],
      settings: { epochs: 5 },
    });
    await waitForJob('train', 1);
    expect((await h.client.call('runs:get', { runId: run.id })).status).toBe('completed');

    await h.client.call('cells:classify', { runId: run.id, imageIds: 'all-slides' });
    await waitForJob('classify', 1);
    const predictions = await h.client.call('predictions:list', { runId: run.id, imageId });
    expect(predictions).toHaveLength(cells.length);
    expect(new Set(predictions.map((p) => p.cellId))).toEqual(new Set(cells.map((c) => c.id)));
    // Each cell was classified as a square of the training scale (64 px) centred on it.
    for (const p of predictions.slice(0, 10)) expect([p.box.w, p.box.h]).toEqual([side, side]);

    const g = await h.client.call('cells:gallery', { runId: run.id, imageId, classIds: [classes.abnormal], limit: 30 });
    expect(g.cells).toHaveLength(Math.min(30, cells.length));
    for (let i = 1; i < g.cells.length; i++) expect(g.cells[i].score).toBeLessThanOrEqual(g.cells[i - 1].score);
    expect(g.counts.reduce((s, c) => s + c.count, 0)).toBe(cells.length);
    // Accepting a gallery cell makes it a label.
    const accepted = await h.client.call('predictions:accept', { predictionId: g.cells[0].predictionId });
    expect(accepted.source).toBe('accepted-prediction');

    const cases = await h.client.call('cases:list', { runId: run.id, classIds: [classes.abnormal] });
    expect(cases).toEqual([expect.objectContaining({ imageId, cells: cells.length, classifiedCells: cells.length, status: 'classified' })]);
    expect(cases[0].maxScore).toBeCloseTo(g.cells[0].score, 6);
    await h.client.call('cases:review', { imageId, status: 'reviewed', note: 'two HSIL cells checked' });
    const [reviewed] = await h.client.call('cases:list', { runId: run.id, classIds: [classes.abnormal] });
    expect(reviewed).toMatchObject({ status: 'reviewed', note: 'two HSIL cells checked' });
    expect(reviewed.reviewedBy).toBeTruthy();
    const audit = await h.client.call('audit:list', { limit: 5 });
    expect(audit.some((a) => a.action === 'slide.review')).toBe(true);
  });
});
