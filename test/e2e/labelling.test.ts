// Labelling a real slide in Chromium against browser mode: zoom in, place three labels of
// two classes with clicks and number keys, undo, redo, delete, reload: the remaining labels
// are exactly where they were, with their classes, and the shots panel agrees.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Annotation } from '../../src/shared/domain';
import { slidePath, tempDir } from '../support/paths';
import type { Harness } from '../support/servers';
import { artifacts, openWorkstation, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;
let slideId: number;

beforeAll(async () => {
  ws = await openWorkstation({ width: 1400, height: 900 });
  ({ h, page } = ws);
  await h.client.call('project:create', { path: join(tempDir(), 'label.cytotune') });
  await h.client.call('classes:create', { name: 'Squamous', shortcut: '1' });
  await h.client.call('classes:create', { name: 'Glandular', shortcut: '2' });
  await h.client.call('import:run', { paths: [slidePath] });
  slideId = (await h.client.call('images:list', {}))[0].id;
});
afterAll(async () => ws?.close());

const labels = () => h.client.call('annotations:list', { imageId: slideId });
const shotCount = (name: string) => page.getByTestId(`shots-count-${name}`).textContent();

async function viewerCentre() {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  // The navigator sits top right: work left of centre.
  return { x: box.x + box.width * 0.4, y: box.y + box.height * 0.5 };
}

describe('labelling a whole slide in Chromium', () => {
  it('places, undoes, redoes and deletes labels; after a reload they are exactly where they were', async () => {
    const tiles: { url: string; status: number }[] = [];
    page.on('response', (r) => r.url().includes('/slides/') && tiles.push({ url: r.url(), status: r.status() }));
    await page.goto(h.server!.url);
    await page.locator('.card-open').first().click();
    await page.getByTestId('viewer').waitFor();
    await page.waitForFunction("document.querySelectorAll('.viewer-host .osd canvas').length > 0");
    await page.waitForTimeout(800); // first tiles
    const c = await viewerCentre();
    await page.mouse.move(c.x, c.y);
    await page.mouse.wheel(0, -400); // zoom in
    await page.waitForTimeout(1200);
    // The viewer asks for the slide's native layout: its own JPEG tiles, passed through.
    expect(tiles.filter((t) => /\.native_files\/\d+\/\d+_\d+\.jpeg$/.test(t.url) && t.status === 200).length).toBeGreaterThan(0);
    expect(tiles.filter((t) => /\/slides\/\d+_files\//.test(t.url))).toEqual([]);

    await page.keyboard.press('1');
    await page.mouse.click(c.x - 150, c.y - 100);
    await expect.poll(async () => (await labels()).length).toBe(1);
    await page.mouse.click(c.x + 150, c.y - 100);
    await page.keyboard.press('2');
    await page.mouse.click(c.x, c.y + 150);
    await expect.poll(async () => (await labels()).length).toBe(3);
    const placed = await labels();
    const classOf = async (id: number) => (await h.client.call('classes:list', {})).find((k) => k.id === id)!.name;
    expect(await Promise.all(placed.map((a) => classOf(a.classId)))).toEqual(['Squamous', 'Squamous', 'Glandular']);
    await expect.poll(() => shotCount('Squamous')).toBe('2');
    await expect.poll(() => shotCount('Glandular')).toBe('1');

    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await labels()).length).toBe(2);
    await expect.poll(() => shotCount('Glandular')).toBe('0');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await labels()).length).toBe(3);
    await expect.poll(() => shotCount('Glandular')).toBe('1');

    // Select the second Squamous label by clicking inside it, then delete it.
    await page.mouse.click(c.x + 150, c.y - 100);
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await labels()).length).toBe(2);
    const remaining = (await labels()).map(({ id, classId, box }) => ({ id, classId, box }));
    await page.screenshot({ path: join(artifacts, 'viewer-overlay.png') });

    await page.reload();
    await page.getByTestId('viewer').waitFor();
    await expect.poll(() => shotCount('Squamous')).toBe('1');
    await expect.poll(() => shotCount('Glandular')).toBe('1');
    const after = (await labels()).map(({ id, classId, box }: Annotation) => ({ id, classId, box }));
    expect(after).toEqual(remaining);
    // The first label is still where the first click put it: centred on it, 224 px wide.
    expect(after[0].box.w).toBe(224);
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(artifacts, 'viewer-after-reload.png') });
  });

  it('holds 2,000 labels on one slide across a reload', async () => {
    const project = h.workspace.currentProject!;
    const cls = (await h.client.call('classes:list', {}))[0];
    const before = (await labels()).length;
    project.transaction(() => {
      for (let i = 0; i < 2000; i++) {
        const box = { x: (i * 7919) % 2150, y: (i * 104729) % 2900, w: 64, h: 64 };
        project.annotations.insert({ imageId: slideId, classId: cls.id, box, source: 'manual', author: 'test' });
      }
    });
    const expected = String(before + 2000);
    await page.reload();
    await expect.poll(() => page.getByTestId('label-count').textContent(), { timeout: 30_000 }).toBe(expected);
    await page.reload();
    await expect.poll(() => page.getByTestId('label-count').textContent(), { timeout: 30_000 }).toBe(expected);
    await page.screenshot({ path: join(artifacts, 'viewer-2000-labels.png') });
  });
});
