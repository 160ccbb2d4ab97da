// The whole loop in Chromium against browser mode: label patches of two classes on the
// slide, add a tiny model, train and watch the loss chart move, classify the slide, see the
// heatmap, accept two predictions from the review queue: the label count goes up by two.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slidePath, tempDir } from '../support/paths';
import type { Harness } from '../support/servers';
import { artifacts, openWorkstation, type Workstation } from '../support/workstationPage';
import { writeTinyCheckpoint } from '../support/tinyModel';

let h: Harness;
let ws: Workstation;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  ws = await openWorkstation({ width: 1500, height: 950 });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(dir, 'loop.cytotune') });
  await h.client.call('classes:create', { name: 'Squamous', shortcut: '1' });
  await h.client.call('classes:create', { name: 'Stroma', shortcut: '2' });
  await h.client.call('import:run', { paths: [slidePath] });
});
afterAll(async () => ws?.close());

const liveLabels = async () => (await h.client.call('project:info', {})).counts.annotations;

describe('train and classify from the workstation', () => {
  it('labels, trains, classifies, shows the heatmap and accepts two predictions', async () => {
    await page.goto(h.server!.url);
    await page.locator('.card-open').first().click();
    await page.waitForFunction("document.querySelectorAll('.viewer-host .osd canvas').length > 0");
    await page.waitForTimeout(800);
    const v = (await page.getByTestId('viewer').boundingBox())!;
    const at = (fx: number, fy: number) => page.mouse.click(v.x + v.width * fx, v.y + v.height * fy);
    await page.keyboard.press('1');
    for (const [fx, fy] of [
      [0.38, 0.3],
      [0.42, 0.45],
      [0.36, 0.6],
    ])
      await at(fx, fy);
    await page.keyboard.press('2');
    for (const [fx, fy] of [
      [0.5, 0.2],
      [0.55, 0.7],
      [0.48, 0.85],
    ])
      await at(fx, fy);
    await expect.poll(liveLabels).toBe(6);

    await page.getByTestId('tab-train').click();
    await page.getByTestId('model-path').fill(writeTinyCheckpoint(dir));
    await page.getByTestId('model-inspect').click();
    await expect.poll(() => page.getByTestId('model-found').textContent()).toMatch(/openai-clip/);
    await page.getByTestId('model-add').click();
    await page.getByTestId('run-model').waitFor();
    await expect.poll(() => page.getByTestId('plan').textContent()).toMatch(/Squamous21Stroma21/);
    await page.locator('details.advanced summary').click();
    await page.getByTestId('run-steps').fill('40');
    await page.getByTestId('start-run').click();
    await expect.poll(() => page.getByTestId('run-status').first().textContent(), { timeout: 120_000 }).toBe('completed');
    await expect.poll(async () => Number(await page.getByTestId('chart-loss').first().getAttribute('data-points'))).toBeGreaterThan(1);
    await expect.poll(() => page.getByTestId('run-metrics').first().textContent()).toMatch(/40 steps/);
    await page.screenshot({ path: join(artifacts, 'training-screen.png'), fullPage: true });

    const slideId = (await h.client.call('images:list', {}))[0].id;
    await page.getByTestId(`classify-image-${slideId}`).check();
    await page.getByTestId('classify-start').click();
    const runId = (await h.client.call('runs:list', {}))[0].id;
    await expect
      .poll(async () => (await h.client.call('predictions:list', { runId, imageId: slideId })).length, { timeout: 120_000 })
      .toBeGreaterThan(10);

    await page.getByRole('button', { name: 'results' }).click();
    await page.getByTestId('review-current').waitFor();
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(artifacts, 'heatmap.png') });
    const before = await liveLabels();
    await page.keyboard.press('Enter');
    await expect.poll(liveLabels).toBe(before + 1);
    await page.keyboard.press('2'); // corrects the next one to Stroma and accepts it
    await expect.poll(liveLabels).toBe(before + 2);
    // Each acceptance is a label and a review decision, both in the audit log.
    const audit = await h.client.call('audit:list', { limit: 4 });
    const labels = audit.filter((e) => e.action === 'annotation.create').map((e) => (e.after as { source: string }).source);
    expect(labels).toEqual(['accepted-prediction', 'accepted-prediction']);
    expect(audit.filter((e) => e.entity === 'prediction').map((e) => e.action)).toEqual(['prediction.correct', 'prediction.accept']);
  });
});
