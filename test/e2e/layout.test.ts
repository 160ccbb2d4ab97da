// Every screen at 1440x900 and 1024x700 with the real worker and a tiny model, each checked
// for anything sticking out of its card: the training screen with an 8-class confusion matrix,
// two runs compared side by side, the slide's results (heatmap menu and slider), an experiment
// whose summary is rendered (headings and tables, figures that load, numbered per project).
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenClassTree } from '../../src/shared/classes';
import { herlevCounts, slidePath, tempDir } from '../support/paths';
import { herlevFolder } from '../support/experimentFixtures';
import type { Harness } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { herlevCopy, openWorkstation, overflowProblems, screenshotScreens, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;
let dir: string;
let slideId: number;

beforeAll(async () => {
  dir = tempDir();
  ws = await openWorkstation({ width: 1440, height: 900 });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(dir, 'layout.cytotune') });
  const herlev = Object.fromEntries(Object.keys(herlevCounts).map((k) => [k, k]));
  await h.client.call('import:run', { paths: [herlevCopy(join(dir, 'data'), herlev, 6), slidePath] });
  slideId = (await h.client.call('images:list', { limit: 5000 })).find((i) => i.kind === 'slide')!.id;
  const stroma = await h.client.call('classes:create', { name: 'Stroma' });
  for (let i = 0; i < 6; i++)
    await h.client.call('annotations:create', { imageId: slideId, classId: stroma.id, box: { x: 200 + 300 * i, y: 1400, w: 224, h: 224 } });
  // Squamous lesions three levels deep.
  const abnormal = await h.client.call('classes:create', { name: 'Abnormal' });
  const squamous = await h.client.call('classes:create', { name: 'Squamous', parentId: abnormal.id });
  const byName = new Map(flattenClassTree(await h.client.call('classes:list', {})).map(({ node }) => [node.name, node.id]));
  for (const name of ['light_dysplastic', 'moderate_dysplastic', 'severe_dysplastic', 'carcinoma_in_situ'])
    await h.client.call('classes:update', { id: byName.get(name)!, parentId: squamous.id });
  await h.client.call('models:add', { path: writeTinyCheckpoint(dir) });
});
afterAll(async () => ws?.close());

const status = () => page.getByTestId('run-status').first().textContent();

describe('layout of every screen', { timeout: 180_000 }, () => {
  it('trains an 8-class run whose confusion matrix fits its card', async () => {
    await page.goto(`${h.server!.url}#/train`);
    await page.getByTestId('run-model').waitFor();
    await expect.poll(() => page.getByTestId('plan').locator('tbody tr').count()).toBe(8);
    await page.getByTestId('method-linear').check();
    await page.getByTestId('preset-quick').click();
    await page.getByTestId('start-run').click();
    await expect.poll(status, { timeout: 120_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('confusion').locator('tbody tr').count()).toBe(8);
    await screenshotScreens(page, 'train-run');
  });

  it('compares two runs side by side without widening the page', async () => {
    await page.getByTestId('method-linear').check();
    await page.getByTestId('start-run').click();
    // The second run exists before its status is read (else the first run's 'completed' passes).
    await expect.poll(async () => (await h.client.call('runs:list', {})).length).toBe(2);
    await expect.poll(async () => (await h.client.call('runs:list', {}))[0]?.status, { timeout: 120_000 }).toBe('completed');
    const runs = await h.client.call('runs:list', {});
    for (const r of runs) await page.getByRole('checkbox', { name: `Show run ${r.id}` }).check();
    await expect.poll(() => page.getByTestId('confusion').count()).toBe(2);
    await screenshotScreens(page, 'train-compare');
    // The two matrices sit side by side or one under the other, never over each other.
    const [a, b] = await Promise.all([0, 1].map(async (i) => (await page.getByTestId('confusion').nth(i).boundingBox())!));
    const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    expect(overlap).toBe(false);
    for (const r of runs) await page.getByRole('checkbox', { name: `Show run ${r.id}` }).uncheck();
  });

  it('classifies all slides and shows the results panel in full', async () => {
    await page.getByTestId('classify-all-slides').click();
    await expect.poll(() => page.getByTestId(`classify-image-${slideId}`).isChecked()).toBe(true);
    await page.getByTestId('classify-start').click();
    const runId = (await h.client.call('runs:list', {}))[0].id;
    await expect
      .poll(async () => (await h.client.call('predictions:list', { runId, imageId: slideId })).length, { timeout: 120_000 })
      .toBeGreaterThan(10);
    await page.goto(`${h.server!.url}#/image/${slideId}/run/${runId}`);
    await page.getByTestId('review-current').waitFor();
    await page.waitForTimeout(1000);
    await screenshotScreens(page, 'results-panel');
    await page.goto(`${h.server!.url}#/image/${slideId}`);
    await page.getByTestId('viewer').waitFor();
    await page.waitForTimeout(800);
    await screenshotScreens(page, 'label-screen');
  });

  it('renders an experiment summary with its tables and figures, numbered per project', async () => {
    await page.goto(`${h.server!.url}#/train`);
    await page.getByTestId('exp-data').fill(herlevFolder(join(dir, 'exp'), { a: 'normal_columnar', b: 'severe_dysplastic' }, 12));
    await page.getByTestId('exp-model').first().check();
    await page.getByTestId('exp-method-lora').uncheck();
    await page.getByTestId('exp-shots').fill('1,2');
    await page.getByTestId('exp-seeds').fill('1');
    await page.getByTestId('exp-lrs').fill('0.001');
    await page.getByTestId('exp-percents').fill('50,100');
    await page.getByTestId('exp-start').click();
    const row = page.getByTestId('experiment-1');
    await expect.poll(() => row.textContent(), { timeout: 180_000 }).toMatch(/Experiment 1 · completed/);
    const summary = row.locator('.markdown');
    await summary.locator('table').first().waitFor();
    expect(await summary.locator('.md-h1, .md-h2').count()).toBeGreaterThanOrEqual(2);
    expect(await summary.locator('table').count()).toBeGreaterThanOrEqual(2);
    expect(await summary.textContent()).not.toMatch(/\|---|^#|\*\*/m);
    const figures = row.locator('img.figure');
    await expect.poll(() => figures.count()).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => figures.evaluateAll((imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0)))
      .toBe(true);
    await row.scrollIntoViewIfNeeded();
    await screenshotScreens(page, 'experiment-summary', () => row.scrollIntoViewIfNeeded());
    expect(ws.failedRequests).toEqual([]);
    expect(await overflowProblems(page)).toEqual([]);
  });
});
