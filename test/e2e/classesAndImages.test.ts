// The start screen, classes and the image grid as a cytotechnician uses them all day: Enter
// opens a project that exists (and creates one that does not), Esc closes the folder picker,
// a class whose labels were all undone can be deleted and the top bar follows the undo, colours
// stay distinct past the palette, deep names keep a tooltip with the name, the grid filters by
// class, kind, labelled state and name and remembers it, and counts read "1 slide".
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenClassTree } from '../../src/shared/classes';
import { slidePath, tempDir } from '../support/paths';
import type { Harness } from '../support/servers';
import { herlevCopy, openWorkstation, screenshotScreens, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;
let dir: string;
let projectPath: string;

beforeAll(async () => {
  dir = tempDir();
  projectPath = join(dir, 'daily.cytotune');
  ws = await openWorkstation({ width: 1440, height: 900 });
  ({ h, page } = ws);
});
afterAll(async () => ws?.close());

const counts = () => page.getByTestId('project-counts').textContent();

describe('start screen', { timeout: 180_000 }, () => {
  it('creates with Enter when the file is new, opens with Enter when it exists; Esc closes the picker', async () => {
    await page.goto(h.server!.url);
    await page.getByTestId('project-path').fill(projectPath);
    await expect.poll(() => page.getByTestId('start-primary').textContent()).toMatch(/Enter creates/);
    await page.getByTestId('project-path').press('Enter');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('daily');
    await page.getByRole('button', { name: 'Close project' }).click();

    await page.getByTestId('project-path').fill(projectPath);
    await expect.poll(() => page.getByTestId('start-primary').textContent()).toMatch(/Enter opens/);
    await screenshotScreens(page, 'start-screen');
    await page.getByTestId('project-path').press('Enter');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('daily');
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.getByRole('button', { name: 'Close project' }).click();
    await page.getByRole('button', { name: 'Browse…' }).click();
    await page.getByRole('dialog').waitFor();
    await screenshotScreens(page, 'folder-picker');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });
});

describe('classes and images', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    await h.client.call('project:open', { path: projectPath });
    const data = herlevCopy(
      join(dir, 'data'),
      { normal_superficiel: 'normal_superficiel', moderate_dysplastic: 'moderate_dysplastic', severe_dysplastic: 'severe_dysplastic' },
      8,
    );
    await h.client.call('import:run', { paths: [data, slidePath] });
    const abnormal = await h.client.call('classes:create', { name: 'Abnormal' });
    const squamous = await h.client.call('classes:create', { name: 'Squamous intraepithelial lesions', parentId: abnormal.id });
    const moderate = flattenClassTree(await h.client.call('classes:list', {})).find(
      ({ node }) => node.name === 'moderate_dysplastic',
    )!.node;
    await h.client.call('classes:update', { id: moderate.id, parentId: squamous.id });
    await page.goto(h.server!.url);
    await page.getByTestId('project-name').waitFor();
  });

  it('counts read "1 slide", and deep class names keep their name in a tooltip', async () => {
    await expect.poll(counts).toMatch(/^24 images · 1 slide · 24 labels$/);
    const name = page.getByTestId('class-moderate_dysplastic').locator('.class-name');
    expect(await name.getAttribute('title')).toMatch(/moderate_dysplastic/);
    expect(await name.getAttribute('title')).toMatch(/Abnormal › Squamous intraepithelial lesions › moderate_dysplastic/);
    await screenshotScreens(page, 'images-and-classes');
  });

  it('gives classes past the palette colours of their own', async () => {
    for (let i = 0; i < 10; i++) await h.client.call('classes:create', { name: `extra ${i}` });
    const colours = (await h.client.call('classes:list', {})).flatMap(function all(c): string[] {
      return [c.color, ...c.children.flatMap(all)];
    });
    expect(colours.length).toBe(15);
    expect(new Set(colours.map((c) => c.toLowerCase())).size).toBe(15);
    for (let i = 0; i < 10; i++) {
      const id = (await h.client.call('classes:list', {})).find((c) => c.name === `extra ${i}`)!.id;
      await h.client.call('classes:delete', { id });
    }
  });

  it('deletes a class whose labels were all undone, and the top bar follows the undo', async () => {
    await h.client.call('classes:create', { name: 'Temp', shortcut: '5' });
    await page.reload();
    const image = (await h.client.call('images:list', {})).find((i) => i.kind === 'slide')!; // imported images are labelled whole
    await page.goto(`${h.server!.url}#/image/${image.id}`);
    await page.getByTestId('viewer').waitFor();
    await page.waitForTimeout(800);
    await page.keyboard.press('5');
    const v = (await page.getByTestId('viewer').boundingBox())!;
    await page.mouse.click(v.x + v.width * 0.5, v.y + v.height * 0.5);
    await expect.poll(counts, { timeout: 5000 }).toMatch(/25 labels/);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await h.client.call('project:info', {})).counts.annotations).toBe(24);
    await expect.poll(counts, { timeout: 5000 }).toMatch(/24 labels$/);

    await page.getByTestId('tab-images').click();
    await page.getByRole('button', { name: 'Delete Temp' }).click();
    await expect.poll(() => page.getByTestId('class-Temp').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('filters the grid by class (with subclasses), kind, labelled state and name, and remembers the filter', async () => {
    const shown = () => page.getByTestId('image-grid').locator('li').count();
    const summary = () => page.getByTestId('image-count').textContent();
    await expect.poll(shown).toBe(25);
    await page.getByTestId('filter-class').selectOption({ label: 'Abnormal' });
    await expect.poll(shown).toBe(8);
    await expect.poll(summary).toMatch(/8 of 25 images/);
    await page.getByTestId('filter-class').selectOption({ label: 'all classes' });
    await page.getByTestId('filter-kind').selectOption('slide');
    await expect.poll(shown).toBe(1);
    await page.getByTestId('filter-kind').selectOption('all');
    await page.getByTestId('filter-labelled').selectOption('unlabelled');
    await expect.poll(shown).toBe(1);
    await page.getByTestId('filter-labelled').selectOption('labelled');
    await expect.poll(shown).toBe(24);
    await page.getByTestId('filter-name').fill('CMU');
    await expect.poll(shown).toBe(0);
    await page.getByTestId('filter-labelled').selectOption('all');
    await expect.poll(shown).toBe(1);
    await page.getByTestId('filter-name').fill('');
    await page.getByTestId('filter-class').selectOption({ label: 'severe_dysplastic' });
    await expect.poll(shown).toBe(8);
    await screenshotScreens(page, 'images-filtered');

    // Into an image and back, and across a reload: the same filter.
    await page.locator('.card-open').first().click();
    await page.getByTestId('viewer').waitFor();
    await page.getByRole('button', { name: '← Images' }).click();
    await expect.poll(shown).toBe(8);
    await page.reload();
    await expect.poll(shown).toBe(8);
    expect(await page.getByTestId('filter-class').locator('option:checked').textContent()).toMatch(/severe_dysplastic/);
  });
});
