// The workstation in Debian's Chromium against browser mode: create a project, add and nest
// classes, import the Herlev folder, see the counts, reload, everything is still there.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { herlevCounts, herlevDir, tempDir } from '../support/paths';
import type { Harness } from '../support/servers';
import { artifacts, openWorkstation, type Workstation } from '../support/workstationPage';

let h: Harness;
let ws: Workstation;
let page: Page;

beforeAll(async () => {
  ws = await openWorkstation({ width: 1400, height: 900 });
  ({ h, page } = ws);
});
afterAll(async () => ws?.close());

const count = (name: string) => page.getByTestId(`count-${name}`).textContent();

describe('workstation in Chromium (browser mode)', () => {
  it('creates a project, nests classes, imports Herlev, and keeps it all across a reload', async () => {
    await page.goto(h.server!.url);
    await page.getByTestId('project-path').fill(join(tempDir(), 'e2e-study'));
    await page.getByTestId('create-project').click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('e2e-study');

    await page.getByTestId('new-class-name').fill('Abnormal');
    await page.getByTestId('add-class').click();
    await page.getByTestId('class-Abnormal').waitFor();
    await page.getByTestId('new-class-name').fill('Squamous');
    await page.getByTestId('new-class-parent').selectOption({ label: 'Abnormal' });
    await page.getByTestId('add-class').click();
    await page.getByTestId('class-Squamous').waitFor();

    await page.getByTestId('import-paths').fill(herlevDir);
    await page.getByTestId('import-run').click();
    await expect
      .poll(() => page.getByTestId('import-summary').textContent(), { timeout: 60_000 })
      .toMatch(/Added 734, duplicates 0, unreadable 0/);
    for (const [name, n] of Object.entries(herlevCounts)) await expect.poll(() => count(name)).toBe(String(n));
    await expect.poll(() => page.getByTestId('project-counts').textContent()).toMatch(/734 images · 0 slides · 734 labels/);

    // Nest an imported class under Squamous: the parent's total includes it.
    await page.getByTestId('parent-severe_dysplastic').selectOption({ label: 'in Squamous' });
    await expect.poll(() => count('Abnormal')).toBe('158');
    await page.screenshot({ path: join(artifacts, 'main-screen.png') });

    await page.reload();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('e2e-study');
    for (const [name, n] of Object.entries(herlevCounts)) await expect.poll(() => count(name)).toBe(String(n));
    await expect.poll(() => count('Squamous')).toBe('158');
    // The tree order survives: Squamous inside Abnormal, severe_dysplastic inside Squamous.
    const rows = await page.getByTestId('class-list').locator('li').allTextContents();
    const names = rows.map((r) => r.replace(/\d+.*$/, ''));
    expect(names.indexOf('Squamous')).toBe(names.indexOf('Abnormal') + 1);
    expect(names.indexOf('severe_dysplastic')).toBe(names.indexOf('Squamous') + 1);
    expect(await page.getByTestId('image-grid').locator('li').count()).toBe(200);
  });
});
