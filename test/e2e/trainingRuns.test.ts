// Training from the workstation against a scripted worker, so every state of a run can be held
// as long as the test needs: a level of an uneven class tree takes its subclasses' labels, the
// estimate with its presets and warnings, a run says "running" while it trains, "cancelling…"
// at once, a resumed run loses the stale error, and a resume from an earlier checkpoint drops
// the metric rows of the steps the crash lost; the linear probe shows its phase, not numbers.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenClassTree } from '../../src/shared/classes';
import type { TrainJobSpec } from '../../src/shared/jobs';
import { tempDir } from '../support/paths';
import { ScriptedWorker, trainResult, type Harness } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { herlevCopy, openWorkstation, screenshotScreens, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;
const worker = new ScriptedWorker();
let runId: number;

beforeAll(async () => {
  const dir = tempDir();
  ws = await openWorkstation({ width: 1440, height: 900 }, { spawnWorker: worker.spawner });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(dir, 'levels.cytotune') });
  // An uneven tree: Abnormal > Squamous > {HSIL, LSIL}, Abnormal > Glandular (a leaf at level 2),
  // Normal > NILM (a leaf at level 2, only 3 labels).
  const data = herlevCopy(join(dir, 'data'), { HSIL: 'severe_dysplastic', LSIL: 'light_dysplastic', Glandular: 'normal_columnar' }, 6);
  herlevCopy(data, { NILM: 'normal_intermediate' }, 3);
  await h.client.call('import:run', { paths: [data] });
  const abnormal = await h.client.call('classes:create', { name: 'Abnormal' });
  const normal = await h.client.call('classes:create', { name: 'Normal' });
  const squamous = await h.client.call('classes:create', { name: 'Squamous', parentId: abnormal.id });
  const byName = new Map(flattenClassTree(await h.client.call('classes:list', {})).map(({ node }) => [node.name, node.id]));
  const nest = (name: string, parentId: number) => h.client.call('classes:update', { id: byName.get(name)!, parentId });
  await nest('HSIL', squamous.id);
  await nest('LSIL', squamous.id);
  await nest('Glandular', abnormal.id);
  await nest('NILM', normal.id);
  await h.client.call('models:add', { path: writeTinyCheckpoint(dir) });
});
afterAll(async () => ws?.close());

/** A plan row's cells: class (with its subclasses), training labels, validation labels. */
const planRow = async (name: string) =>
  (
    await page
      .getByTestId('plan')
      .locator('tbody tr', { hasText: new RegExp(`^${name}`) })
      .locator('td')
      .allTextContents()
  ).join(' | ');
const status = () => page.getByTestId('run-status').first().textContent();

describe('training runs from the workstation', { timeout: 180_000 }, () => {
  it('the default level keeps the leaves above it, and level 1 trains abnormal against normal', async () => {
    await page.goto(`${h.server!.url}#/train`);
    await page.getByTestId('run-model').waitFor();
    // Level 3 of the tree: HSIL and LSIL, and the leaves that stop at level 2.
    await expect.poll(() => page.getByTestId('train-level').inputValue()).toBe('3');
    for (const name of ['HSIL', 'LSIL', 'Glandular', 'NILM'])
      await expect.poll(() => page.getByTestId(`train-class-${name}`).isChecked()).toBe(true);
    for (const name of ['Abnormal', 'Squamous', 'Normal']) expect(await page.getByTestId(`train-class-${name}`).isChecked()).toBe(false);

    await page.getByTestId('train-level').selectOption('1');
    // 18 labels of Abnormal's subclasses: 4 for validation, 14 for training; NILM's 3 for Normal.
    await expect.poll(() => planRow('Abnormal')).toBe('Abnormal + 4 subclasses | 14 | 4');
    await expect.poll(() => planRow('Normal')).toBe('Normal + 1 subclass | 2 | 1');
    await expect.poll(() => page.getByTestId('plan-warnings').textContent()).toMatch(/Normal.*2 training and 1 validation/);
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
  });

  it('estimates the run before it starts, with Quick and Paper presets', async () => {
    const estimate = page.getByTestId('estimate');
    await expect.poll(() => estimate.textContent()).toMatch(/\d[\d,]* steps.*images\/s.*(min|s)\b/);
    // The model-size guess gives way to a few timed steps in the worker (scripted here: 20 images/s).
    await expect.poll(() => estimate.textContent()).toMatch(/20 images\/s \(measured here\)/);
    await page.getByTestId('preset-paper').click();
    await expect.poll(async () => Number(await estimate.getAttribute('data-steps'))).toBeGreaterThan(0);
    const paperSteps = Number(await estimate.getAttribute('data-steps'));
    // The paper's LoRA length: 50 warm-up + 100 x batches per epoch (14 + 2 images, batch 32: 1 batch).
    expect(paperSteps).toBe(150);
    await page.getByTestId('preset-quick').click();
    await expect.poll(async () => Number(await estimate.getAttribute('data-steps'))).toBeLessThan(paperSteps);
    expect(await page.getByTestId('run-steps').inputValue()).toBe(await estimate.getAttribute('data-steps'));
    await screenshotScreens(page, 'train-estimate');
  });

  it('says running while it trains, cancelling at once, and a resume clears the old error and the lost steps', async () => {
    await page.getByTestId('preset-paper').click();
    await page.getByTestId('start-run').click();
    const first = await worker.nthStart(1);
    const spec = first.job.spec as TrainJobSpec;
    expect(spec.classNames).toEqual(['Abnormal', 'Normal']);
    expect(spec.train.length + spec.val.length).toBe(21);
    runId = (await h.client.call('runs:list', {}))[0].id;

    worker.trainSteps(first.jobId, [10, 20, 30, 40, 50], 150, 1.0);
    await expect.poll(status).toBe('running');
    await expect.poll(() => page.getByTestId(`run-row-${runId}`).textContent()).toMatch(/running/);

    await page.getByTestId('run-cancel').click();
    // The worker answers after 1.5 s; the run says so at once.
    await expect.poll(status, { timeout: 700, interval: 50 }).toBe('cancelling…');
    await expect.poll(() => page.getByTestId(`run-row-${runId}`).textContent(), { timeout: 700, interval: 50 }).toMatch(/cancelling/);
    await expect.poll(status, { timeout: 5000 }).toBe('cancelled');
    await expect.poll(() => page.getByTestId('run-error').textContent()).toMatch(/Cancelled at step 50/);

    await page.getByTestId('run-resume').click();
    const second = await worker.nthStart(2);
    expect((second.job.spec as TrainJobSpec).resume).toBe(true);
    await expect.poll(() => page.getByTestId('run-error').count()).toBe(0);
    worker.trainSteps(second.jobId, [60, 70, 80], 150, 0.9);
    await expect.poll(async () => (await h.client.call('runs:metrics', { runId })).length).toBe(8);
    worker.crash(); // the last checkpoint was step 50: steps 51-80 are lost
    await expect.poll(status).toBe('failed');
    await expect.poll(() => page.getByTestId('run-error').textContent()).toMatch(/killed by SIGKILL/);

    await page.getByTestId('run-resume').click();
    const third = await worker.nthStart(3);
    await expect.poll(() => page.getByTestId('run-error').count()).toBe(0);
    worker.trainSteps(third.jobId, [51, 65, 85, 105, 125, 150], 150, 0.3);
    worker.result(third.jobId, trainResult(third.job.spec as TrainJobSpec, 150));
    await expect.poll(status).toBe('completed');
    expect(await page.getByTestId('run-error').count()).toBe(0);
    const metrics = await h.client.call('runs:metrics', { runId });
    expect(metrics.map((m) => [m.step, m.loss])).toEqual([
      [10, 1],
      [20, 1],
      [30, 1],
      [40, 1],
      [50, 1],
      [51, 0.3],
      [65, 0.3],
      [85, 0.3],
      [105, 0.3],
      [125, 0.3],
      [150, 0.3],
    ]);
    await expect.poll(async () => Number(await page.getByTestId('chart-loss').first().getAttribute('data-points'))).toBe(11);
  });

  it('shows the linear probe feature extraction as a phase, not as chart values, and learning rates at decades', async () => {
    await page.getByTestId('method-linear').check();
    await page.getByTestId('start-run').click();
    const job = await worker.nthStart(4);
    await expect.poll(status).toBe('running');
    // No step yet: the phase in words, and charts without invented axes.
    await expect.poll(() => page.getByTestId('train-progress').textContent()).toMatch(/extracting features/i);
    expect(await page.getByTestId('train-progress').textContent()).not.toMatch(/undefined|NaN/);
    expect(await page.getByTestId('chart-loss').first().textContent()).not.toMatch(/\d/);
    // The worker's feature progress: images so far, their rate and the time left.
    worker.progress(job.jobId, { step: 8, total: 14, phase: 'extracting features', imagesPerSecond: 4, etaSeconds: 1.5 });
    await expect.poll(() => page.getByTestId('feature-progress').textContent()).toMatch(/8\/14 images · 4\.0 img\/s/);
    expect(await page.getByTestId('chart-loss').first().textContent()).not.toMatch(/\d/);
    await screenshotScreens(page, 'train-linear-extracting');

    for (let step = 1; step <= 40; step++) {
      const lr = 1e-3 * Math.pow(0.01, step / 40) + 1e-6; // 1e-3 down to 1e-5
      worker.progress(job.jobId, { step, total: 40, phase: 'training', loss: 1 / step, lr, accuracy: 0.5, imagesPerSecond: 30 });
    }
    await expect.poll(async () => Number(await page.getByTestId('chart-lr').first().getAttribute('data-points'))).toBe(40);
    const ticks = await page.getByTestId('chart-lr').first().locator('text.tick').allTextContents();
    const yTicks = ticks.filter((t) => !t.startsWith('step'));
    expect(yTicks.length).toBeGreaterThanOrEqual(2);
    for (const t of yTicks) expect(t).toMatch(/^1e-\d+$/);
    worker.result(job.jobId, trainResult(job.job.spec as TrainJobSpec, 40));
    await expect.poll(status).toBe('completed');
  });
});
