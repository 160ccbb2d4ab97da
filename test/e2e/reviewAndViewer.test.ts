// The review queue and the viewer's keyboard against a scripted worker (a trained run and its
// predictions on the real slide): review decisions survive a reload and accepting twice never
// makes a second label; the overlay picker switches labels and runs' results; the `?` sheet
// lists the keys the viewer answers to; + and arrows zoom and pan wherever the focus is; Esc
// closes every dialog.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassifyJobSpec, TrainJobSpec } from '../../src/shared/jobs';
import { slidePath, tempDir } from '../support/paths';
import { ScriptedWorker, trainResult, type Harness } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { openWorkstation, screenshotScreens, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;
const worker = new ScriptedWorker();
let slideId: number;
let runId: number;
let stroma: number;

beforeAll(async () => {
  const dir = tempDir();
  ws = await openWorkstation({ width: 1440, height: 900 }, { spawnWorker: worker.spawner });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(dir, 'review.cytotune') });
  const squamous = await h.client.call('classes:create', { name: 'Squamous', shortcut: '1' });
  stroma = (await h.client.call('classes:create', { name: 'Stroma', shortcut: '2' })).id;
  await h.client.call('import:run', { paths: [slidePath] });
  slideId = (await h.client.call('images:list', {}))[0].id;
  for (let i = 0; i < 3; i++) {
    await h.client.call('annotations:create', {
      imageId: slideId,
      classId: squamous.id,
      box: { x: 300 + 250 * i, y: 300, w: 224, h: 224 },
    });
    await h.client.call('annotations:create', { imageId: slideId, classId: stroma, box: { x: 300 + 250 * i, y: 1500, w: 224, h: 224 } });
  }
  const model = await h.client.call('models:add', { path: writeTinyCheckpoint(dir) });
  const run = await h.client.call('runs:start', { modelId: model.id, method: 'lora', classIds: [squamous.id, stroma] });
  runId = run.id;
  const train = await worker.nthStart(1);
  worker.result(train.jobId, trainResult(train.job.spec as TrainJobSpec, 40));
  await until(async () => (await h.client.call('runs:get', { runId })).status === 'completed');
  await h.client.call('classify:start', { runId, imageIds: [slideId] });
  const classify = await worker.nthStart(2);
  const spec = classify.job.spec as ClassifyJobSpec;
  // A 4 x 5 grid of patches, ever more certain: entropy falls along the grid.
  const predictions = [];
  for (let i = 0; i < 20; i++) {
    const p = 0.5 + 0.024 * i;
    const probabilities = i % 2 ? [1 - p, p] : [p, 1 - p];
    const entropy = -probabilities.reduce((s, q) => s + q * Math.log(q), 0);
    const box = { x: 200 + (i % 4) * 450, y: 200 + Math.floor(i / 4) * 520, w: spec.patchSize, h: spec.patchSize };
    predictions.push({ imageId: slideId, box, classIndex: i % 2, probabilities, entropy });
  }
  worker.result(classify.jobId, {
    kind: 'classify',
    result: { predictions, count: predictions.length, seconds: 1, grids: [{ imageId: slideId, gridPatches: 130, tissuePatches: 20 }] },
  });
  await until(async () => (await h.client.call('predictions:list', { runId })).length === 20);
});

async function until(cond: () => Promise<boolean>, ms = 30_000) {
  for (const end = Date.now() + ms; !(await cond()); await new Promise((r) => setTimeout(r, 100)))
    if (Date.now() > end) throw new Error('timed out');
}
afterAll(async () => ws?.close());

const liveLabels = async () => (await h.client.call('project:info', {})).counts.annotations;
const left = () => page.getByTestId('review-left').textContent();
const viewerState = async () => {
  const v = page.getByTestId('viewer');
  return { zoom: Number(await v.getAttribute('data-zoom')), x: Number(await v.getAttribute('data-center-x')) };
};

describe('the review queue', { timeout: 180_000 }, () => {
  it('keeps its decisions across a reload and never adds a second label for a prediction', async () => {
    await page.goto(`${h.server!.url}#/image/${slideId}/run/${runId}`);
    await page.getByTestId('review-current').waitFor();
    await expect.poll(left).toMatch(/20 left/);
    const before = await liveLabels();
    const queue = await h.client.call('predictions:review', { runId, imageId: slideId });
    await page.keyboard.press('Enter'); // accept the least certain
    await expect.poll(liveLabels).toBe(before + 1);
    await page.keyboard.press('2'); // correct the next to Stroma and accept it
    await expect.poll(liveLabels).toBe(before + 2);
    await page.keyboard.press('s'); // skip the third
    await expect.poll(left).toMatch(/17 left/);

    await page.reload();
    await page.getByTestId('review-current').waitFor();
    await expect.poll(left).toMatch(/17 left/);
    const next = await h.client.call('predictions:review', { runId, imageId: slideId });
    expect(next.map((p) => p.id)).not.toContain(queue[0].id);
    expect(next.map((p) => p.id)).not.toContain(queue[1].id);
    expect(next[0].id).toBe(queue[3].id);

    // Accepting an accepted prediction again, even as another class, keeps one label on its box.
    await h.client.call('predictions:accept', { predictionId: queue[0].id });
    await h.client.call('predictions:accept', { predictionId: queue[0].id, classId: stroma });
    expect(await liveLabels()).toBe(before + 2);
    const onBox = (await h.client.call('annotations:list', { imageId: slideId })).filter(
      (a) => a.box.x === queue[0].box.x && a.box.y === queue[0].box.y,
    );
    expect(onBox.map((a) => a.classId)).toEqual([stroma]);
    await screenshotScreens(page, 'review-queue');
  });
});

describe('the viewer', { timeout: 180_000 }, () => {
  it('picks overlays: labels on and off, and a run with results on this image', async () => {
    const labelCount = String((await h.client.call('annotations:list', { imageId: slideId })).length);
    await page.goto(`${h.server!.url}#/image/${slideId}`);
    await page.getByTestId('viewer').waitFor();
    await expect.poll(() => page.getByTestId('viewer').getAttribute('data-boxes')).toBe(labelCount);
    await page.getByTestId('overlay-picker').click();
    await page.getByTestId(`overlay-run-${runId}`).click(); // opens the run's results: the viewer reloads
    await page.getByTestId('review-current').waitFor();
    expect(page.url()).toMatch(new RegExp(`#/image/${slideId}/run/${runId}$`));
    await expect.poll(() => page.getByTestId('viewer').getAttribute('data-heat')).toBe('20');
    await page.getByTestId('overlay-picker').click();
    await page.getByTestId('overlay-labels').uncheck();
    await expect.poll(() => page.getByTestId('viewer').getAttribute('data-boxes')).toBe('0');
    await screenshotScreens(page, 'viewer-overlay-picker');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('overlay-menu').count()).toBe(0);
    await page.getByTestId('overlay-picker').click();
    await page.getByTestId('overlay-labels').check();
    await page.getByTestId('overlay-run-none').click();
    await expect.poll(() => page.getByTestId('review-current').count()).toBe(0);
    await expect.poll(() => page.getByTestId('viewer').getAttribute('data-boxes')).toBe(labelCount);
    await page.keyboard.press('Escape');
  });

  it('zooms and pans from the keyboard wherever the focus is', async () => {
    await page.waitForTimeout(800);
    await page.getByTestId('image-title').click(); // focus away from the viewer's canvas
    const start = await viewerState();
    await page.keyboard.press('+');
    await expect.poll(async () => (await viewerState()).zoom).toBeGreaterThan(start.zoom * 1.2);
    const zoomed = await viewerState();
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => (await viewerState()).x).toBeGreaterThan(zoomed.x);
    await page.keyboard.press('-');
    await expect.poll(async () => (await viewerState()).zoom).toBeLessThan(zoomed.zoom);
  });

  it('lists its keys in the ? sheet, and Esc closes it', async () => {
    await page.keyboard.press('?');
    const sheet = page.getByTestId('shortcut-sheet');
    await sheet.waitFor();
    const text = await sheet.textContent();
    for (const key of ['Enter', 'Ctrl+Z', 'Delete', '+', '?', 'Esc']) expect(text).toContain(key);
    expect(text).toMatch(/skip/i);
    expect(text).toMatch(/pan/i);
    await screenshotScreens(page, 'shortcut-sheet');
    await page.keyboard.press('Escape');
    await expect.poll(() => sheet.count()).toBe(0);
  });
});
