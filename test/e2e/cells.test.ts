// The cell loop in Chromium against browser mode: preview and detect the cells of a synthetic
// liquid-based-cytology slide from the viewer, label 3 cells per class by clicking them and 3 per
// class in the cell sorter, train a tiny linear probe, classify the cells of all slides, accept
// and correct two cells in the gallery, see the case list sorted by slide score, review the
// least certain cell of all slides. Screenshots of each screen at 1440x900 and 1024x700.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyntheticSlide } from '../../scripts/synthetic-lbc-slide';
import { boxAround } from '../../src/shared/boxGeometry';
import type { CellRecord } from '../../src/shared/cells';
import { tempDir } from '../support/paths';
import type { Harness } from '../support/servers';
import { syntheticSlide, truthAt } from '../support/syntheticSlides';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { artifacts, openWorkstation, screenshotScreens, type Workstation } from '../support/workstationPage';

// UI updates follow an API call and a reload: allow for a busy machine.
const ui = { timeout: 15_000 };
let h: Harness;
let ws: Workstation;
let page: Page;
let dir: string;
let mixed: SyntheticSlide;
let normals: SyntheticSlide;
const ids: Record<string, number> = {};
const classes: Record<string, number> = {};
const CLASS_OF: Record<string, 'normal' | 'abnormal'> = { normal_superficiel: 'normal', severe_dysplastic: 'abnormal' };

beforeAll(async () => {
  dir = tempDir();
  mixed = await syntheticSlide(dir, 'mixed', ['normal_superficiel', 'severe_dysplastic'], 40, 3);
  normals = await syntheticSlide(dir, 'normals', ['normal_superficiel'], 24, 5);
  ws = await openWorkstation({ width: 1440, height: 900 });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(dir, 'cells.cytotune') });
  // Labels of 64 px: about one cell at 0.5 um/px, and the scale the cells are classified at.
  await h.client.call('project:updateSettings', { patchSize: 64, shotTarget: 6 });
  classes.normal = (await h.client.call('classes:create', { name: 'normal', shortcut: '1' })).id;
  classes.abnormal = (await h.client.call('classes:create', { name: 'abnormal', shortcut: '2' })).id;
  await h.client.call('import:run', { paths: [mixed.path, normals.path] });
  for (const img of await h.client.call('images:list', {})) ids[img.path.endsWith('mixed.tiff') ? 'mixed' : 'normals'] = img.id;
}, 180_000);
afterAll(async () => ws?.close());
// A failing step leaves the screen it failed on.
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail')
    await page?.screenshot({ path: join(artifacts, `cells-failed-${ctx.task.name.slice(0, 30)}.png`) });
});

const liveLabels = async () => (await h.client.call('project:info', {})).counts.annotations;
const waitForViewer = async () => {
  await page.locator('.viewer-host .osd canvas').first().waitFor();
  await page.waitForTimeout(900);
};
const classOfCell = (slide: SyntheticSlide, c: CellRecord) => {
  const t = truthAt(slide, c.x, c.y);
  return t.distance < 12 ? CLASS_OF[t.className] : undefined;
};

describe('cells from the workstation', () => {
  it('previews and detects the cells of a slide from the viewer, with progress', async () => {
    await page.goto(`${h.server!.url}#/image/${ids.mixed}`);
    await waitForViewer();
    await page.getByTestId('cells-panel').waitFor();
    expect(await page.getByTestId('cells-preset').inputValue()).toBe('pap-lbc');
    expect(await page.getByTestId('cells-min').inputValue()).toBe('5');
    await page.getByTestId('cells-preview').click();
    await expect.poll(() => page.getByTestId('cells-preview-result').textContent(), { timeout: 30_000 }).toMatch(/Preview: \d+ nuclei/);
    const previewed = Number(/(\d+) nuclei/.exec((await page.getByTestId('cells-preview-result').textContent())!)![1]);
    expect(previewed).toBeGreaterThan(30);
    // A wrong parameter is refused with the detector's own words.
    await page.getByTestId('cells-max').fill('3');
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 10_000 }).toMatch(/nucleus diameter/);
    await page.getByTestId('cells-max').fill('24');
    await expect.poll(() => page.getByTestId('cells-preview-result').count(), { timeout: 10_000 }).toBe(1);

    await page.getByTestId('cells-detect').click();
    // Queued, then tiles with the time left; Cancel stays at hand while it runs.
    await page.getByTestId('cells-progress').waitFor();
    await page.getByTestId('cells-cancel').waitFor();
    await page.screenshot({ path: join(artifacts, 'cells-viewer-progress.png') });
    await expect.poll(() => page.getByTestId('cells-count').count(), { timeout: 60_000 }).toBe(1);
    const count = Number((await page.getByTestId('cells-count').textContent())!.replace(/\D/g, ''));
    expect(count).toBeGreaterThanOrEqual(Math.round(0.9 * mixed.cells.length));
    const [run] = await h.client.call('cells:runs', { imageId: ids.mixed });
    expect(run).toMatchObject({ status: 'completed', cellCount: count });
    await page.getByTestId('overlay-picker').click();
    expect(await page.getByTestId('overlay-menu').textContent()).toMatch(new RegExp(`Detected cells \\(${count}\\)`));
    await page.keyboard.press('Escape');
    await page.keyboard.press('p'); // preview again, from the key table
    await page.getByTestId('cells-preview-result').waitFor();
    await screenshotScreens(page, 'cells-viewer-detections', () => page.waitForTimeout(600));
    // The other slide through the API: the sorter and the case list work over several slides.
    await h.client.call('cells:detect', { imageId: ids.normals });
    await expect
      .poll(async () => (await h.client.call('cells:runs', { imageId: ids.normals }))[0].status, { timeout: 60_000 })
      .toBe('completed');
  });

  it('labels cells by clicking them: the label is the patch centred on the cell', async () => {
    await page.reload();
    await waitForViewer();
    const cells = await h.client.call('cells:list', { imageId: ids.mixed });
    const panel = page.getByTestId('cells-panel');
    await expect.poll(() => panel.getAttribute('data-view-scale'), ui).toBeTruthy();
    const [vx, vy, scale] = await Promise.all(['x', 'y', 'scale'].map(async (k) => Number(await panel.getAttribute(`data-view-${k}`))));
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const at = (c: CellRecord) => ({ x: box.x + (c.x - vx) * scale + 2, y: box.y + (c.y - vy) * scale + 1 });
    const inside = (c: CellRecord) => {
      const p = at(c);
      return p.x > box.x + 20 && p.x < box.x + box.width - 200 && p.y > box.y + 20 && p.y < box.y + box.height - 60;
    };
    const before = await liveLabels();
    for (const [name, key] of [
      ['normal', '1'],
      ['abnormal', '2'],
    ] as const) {
      for (const c of cells.filter((x) => classOfCell(mixed, x) === name && inside(x)).slice(0, 3)) {
        const p = at(c);
        await page.mouse.click(p.x, p.y);
        await page.getByTestId('cells-selected').waitFor();
        if (name === 'abnormal') await page.screenshot({ path: join(artifacts, 'cells-viewer-selected.png') });
        await page.keyboard.press(key);
        await expect.poll(() => page.getByTestId('cells-selected').count(), ui).toBe(0);
      }
    }
    await expect.poll(liveLabels, ui).toBe(before + 6);
    const labels = await h.client.call('annotations:list', { imageId: ids.mixed });
    for (const a of labels) {
      // The patch of the project's size centred on a cell (kept inside the image at its edges).
      const centred = cells.some((c) => JSON.stringify(boxAround(c, 64, mixed.width, mixed.height)) === JSON.stringify(a.box));
      expect(centred, JSON.stringify(a.box)).toBe(true);
    }
    expect(labels.filter((a) => a.classId === classes.normal)).toHaveLength(3);
  });

  it('sorts cells of both slides into classes with number keys in the cell sorter', async () => {
    await page.goto(`${h.server!.url}#/cells/sort`);
    await page.getByTestId('sorter-grid').waitFor();
    await expect.poll(() => page.locator('[data-testid^=sorter-cell-]').count(), { timeout: 20_000 }).toBeGreaterThan(20);
    const cellsById = new Map<number, { cell: CellRecord; slide: SyntheticSlide }>();
    for (const [key, slide] of [
      ['mixed', mixed],
      ['normals', normals],
    ] as const)
      for (const c of await h.client.call('cells:list', { imageId: ids[key] })) cellsById.set(c.id, { cell: c, slide });
    const shown = await page
      .locator('[data-testid^=sorter-cell-]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-testid')!.slice(12))));
    const before = await liveLabels();
    for (const [name, key] of [
      ['normal', '1'],
      ['abnormal', '2'],
    ] as const) {
      const picks = shown.filter((id) => classOfCell(cellsById.get(id)!.slide, cellsById.get(id)!.cell) === name).slice(0, 3);
      expect(picks).toHaveLength(3);
      for (const id of picks) {
        await page.getByTestId(`sorter-cell-${id}`).click();
        await page.keyboard.press(key);
        await expect.poll(() => page.getByTestId(`sorter-cell-${id}`).getAttribute('data-labelled'), ui).toBe('yes');
      }
    }
    await expect.poll(liveLabels, ui).toBe(before + 6);
    await expect.poll(() => page.getByTestId('sorter-count-abnormal').textContent(), ui).toBe('6');
    // Arrow keys move the focus; Delete takes a label off again, Ctrl+Z puts it back.
    // (The focus moved on past the last cell labelled: → then ← ← comes back to it.)
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Delete');
    await expect.poll(liveLabels, ui).toBe(before + 5);
    await page.keyboard.press('Control+z');
    await expect.poll(liveLabels, ui).toBe(before + 6);
    // `?` lists the sorter's keys (from the one key table); while it is open, keys label nothing.
    await page.keyboard.press('?');
    expect(await page.getByTestId('shortcut-sheet').textContent()).toMatch(/sorter: label the cell and move on/);
    await page.keyboard.press('1');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('shortcut-sheet').count(), ui).toBe(0);
    expect(await liveLabels()).toBe(before + 6);
    await screenshotScreens(page, 'cells-sorter');
  });

  it('trains, classifies the cells of all slides, reviews the gallery and the case list', async () => {
    const model = await h.client.call('models:add', { path: writeTinyCheckpoint(dir) });
    const run = await h.client.call('runs:start', {
      modelId: model.id,
      method: 'linear',
      classIds: [classes.normal, classes.abnormal],
      settings: { epochs: 5 },
    });
    await expect
      .poll(async () => (await h.client.call('runs:get', { runId: run.id })).status, { timeout: 180_000, interval: 500 })
      .toBe('completed');

    await page.goto(`${h.server!.url}#/cells/gallery`);
    // The run's stored int8 check, in one line beside the button.
    await expect
      .poll(() => page.getByTestId('run-int8').first().textContent(), ui)
      .toMatch(/^int8: \d+\.\d % agreement with full precision on \d+ labelled cells .*· (classification uses int8|below the bar)/);
    await page.getByTestId('cells-classify-all').click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(artifacts, 'cells-classifying.png') });
    await expect.poll(() => page.getByTestId('cells-classify-note').textContent(), { timeout: 120_000 }).toMatch(/Classified \d+ cells/);
    // Which engine classified and why, from the job's result.
    expect(await page.getByTestId('cells-classify-note').textContent()).toMatch(
      /Classified \d+ cells with run \d+ on (onnx-int8 \(int8: the stored check passed, |onnx \(full precision: the stored int8 check did not pass, )/,
    );
    await page.screenshot({ path: join(artifacts, 'cells-classified.png') });
    const cellCount = (await h.client.call('cells:list', { imageId: ids.mixed })).length;
    expect(await h.client.call('predictions:list', { runId: run.id, imageId: ids.mixed })).toHaveLength(cellCount);

    // The gallery: the top 30 cells by the abnormal score, highest first, with per-class counts.
    await page.getByTestId('cells-score').selectOption(String(classes.abnormal));
    await page.getByTestId('gallery-slide').selectOption(String(ids.mixed));
    await expect.poll(() => page.locator('[data-testid^=gallery-cell-]').count(), { timeout: 20_000 }).toBe(30);
    const scores = await page.locator('[data-testid^=gallery-score-]').allTextContents();
    expect(scores.map(Number)).toEqual([...scores.map(Number)].sort((a, b) => b - a));
    const counted = await page.locator('[data-testid^=gallery-count-]').allTextContents();
    expect(counted.reduce((s, n) => s + Number(n.replace(/\D/g, '')), 0)).toBe(cellCount);

    const before = await liveLabels();
    await page.getByTestId('gallery-cell-0').click();
    await page.keyboard.press('Enter'); // accept cell 0 as predicted
    await expect.poll(() => page.getByTestId('gallery-cell-0').getAttribute('data-labelled'), ui).toBe('yes');
    const predicted1 = await page.getByTestId('gallery-cell-1').locator('.cell-caption').textContent();
    const correction = predicted1!.includes('abnormal') ? '1' : '2';
    await page.keyboard.press(correction); // the focus moved on: correct cell 1
    await expect.poll(() => page.getByTestId('gallery-cell-1').getAttribute('data-labelled'), ui).toBe('yes');
    expect(await page.getByTestId('gallery-cell-0').textContent()).toMatch(/✓/);
    expect(await page.getByTestId('gallery-cell-1').textContent()).toMatch(/→ (normal|abnormal)/);
    await expect.poll(liveLabels, ui).toBe(before + 2);
    const sources = (await h.client.call('audit:list', { limit: 10 })).filter((e) => e.action.startsWith('annotation'));
    expect(sources.length).toBeGreaterThan(0);
    await screenshotScreens(page, 'cells-gallery', () => page.waitForTimeout(700));

    // The case list: every slide, sorted by slide score (highest first); review one with a note.
    await page.getByTestId('cells-view-cases').click();
    await expect.poll(() => page.locator('[data-testid^=case-score]').count(), ui).toBe(2);
    const slideScores = (await page.locator('[data-testid=case-score]').allTextContents()).map(Number);
    expect(slideScores).toEqual([...slideScores].sort((a, b) => b - a));
    await page.getByTestId('cases-sort-maxScore').click(); // ascending now
    const ascending = (await page.locator('[data-testid=case-score]').allTextContents()).map(Number);
    expect(ascending).toEqual([...slideScores].reverse());
    await page.getByTestId(`case-note-${ids.mixed}`).fill('HSIL cells checked');
    await page.getByTestId(`case-note-${ids.mixed}`).press('Enter');
    await page.getByTestId(`case-status-${ids.mixed}`).selectOption('reviewed');
    await expect
      .poll(async () =>
        (await h.client.call('cases:list', { runId: run.id, classIds: [classes.abnormal] })).find((c) => c.imageId === ids.mixed),
      )
      .toMatchObject({ status: 'reviewed', note: 'HSIL cells checked' });
    await expect.poll(() => page.getByTestId(`case-${ids.mixed}`).textContent(), ui).toMatch(/reviewed/);
    await screenshotScreens(page, 'cells-cases');

    // Active learning: the least certain cells of all slides, one at a time.
    await page.getByTestId('cells-view-review').click();
    await page.getByTestId('cell-review-current').waitFor();
    const left = Number(await page.getByTestId('cell-review-left').textContent());
    const labelsBefore = await liveLabels();
    await page.keyboard.press('Enter');
    await expect.poll(liveLabels, ui).toBe(labelsBefore + 1);
    await expect.poll(async () => Number(await page.getByTestId('cell-review-left').textContent()), ui).toBe(left - 1);
    await page.keyboard.press('s'); // skip: kept in the project, the cell goes to the end of the queue
    await expect.poll(async () => Number(await page.getByTestId('cell-review-left').textContent()), ui).toBe(left - 2);
    await expect
      .poll(
        async () => (await h.client.call('predictions:list', { runId: run.id })).filter((p) => p.review?.decision === 'skipped').length,
        ui,
      )
      .toBe(1);
    await screenshotScreens(page, 'cells-review');
    await page.screenshot({ path: join(artifacts, 'cells-review-full.png'), fullPage: true });
    expect(ws.failedRequests.filter((r) => !r.startsWith('404 /favicon'))).toEqual([]);
  });
});
