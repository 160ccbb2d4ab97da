// A browser page on browser mode for UI tests: the server over a fresh workspace, Chromium,
// one page at a workstation-sized viewport, page errors printed, screenshots in test-results/,
// and the layout check every screenshot goes through: nothing sticks out of its card.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchBrowser } from './browser';
import { herlevDir, repoRoot } from './paths';
import { overHttp, type Harness, type HarnessOptions } from './servers';

export const artifacts = join(repoRoot, 'test-results');

/** The two screens the UI must fit: a common lab monitor and a small laptop. */
export const SCREENS = [
  { name: '1440', width: 1440, height: 900 },
  { name: '1024', width: 1024, height: 700 },
] as const;

export interface Workstation {
  h: Harness;
  browser: Browser;
  page: Page;
  /** Failed requests (status >= 400) the page made, as "404 /path". */
  failedRequests: string[];
  close(): Promise<void>;
}

export async function openWorkstation(viewport = { width: 1400, height: 900 }, options: HarnessOptions = {}): Promise<Workstation> {
  mkdirSync(artifacts, { recursive: true });
  const h = await overHttp(undefined, options);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  const failedRequests: string[] = [];
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  return {
    h,
    browser,
    page,
    failedRequests,
    close: async () => {
      await browser.close();
      await h.close();
    },
  };
}

/**
 * `<dir>/<folder>/<image>` copies (the importer refuses links) of the first `perClass` images by
 * name of the Herlev class each folder maps to; returns `dir`.
 */
export function herlevCopy(dir: string, classes: Record<string, string>, perClass: number): string {
  for (const [folder, herlev] of Object.entries(classes)) {
    mkdirSync(join(dir, folder), { recursive: true });
    for (const f of readdirSync(join(herlevDir, herlev)).sort().slice(0, perClass))
      cpSync(join(herlevDir, herlev, f), join(dir, folder, f));
  }
  return dir;
}

/** Containers whose content must stay inside them (cards, side panels, dialogs, bars). */
export const CONTAINERS = [
  '.card',
  '.sidebar',
  '.content',
  '.label-side',
  '.results',
  '.shots',
  '.modal',
  '.toolbar',
  '.topbar',
  '.train-left',
  '.train-right',
  '.confusion',
  '.markdown',
  '.estimate',
  '.image-filters',
  '.popover',
];

/**
 * Elements that stick out of their container, as readable lines: a container wider inside than
 * outside (scrollWidth > clientWidth), or a visible descendant whose box crosses the container's
 * left or right edge. Text cut with an ellipsis counts only when nothing (title) gives it in full,
 * and the page itself must not scroll sideways.
 */
export async function overflowProblems(page: Page, containers: readonly string[] = CONTAINERS): Promise<string[]> {
  // Runs in the page: the test project has no DOM types, so the checker is plain JavaScript text.
  return page.evaluate(`(${overflowChecker})(${JSON.stringify(containers)})`) as Promise<string[]>;
}

const overflowChecker = `(selectors) => {
  const problems = [];
  const describe = (el) => {
    const id = el.getAttribute('data-testid');
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    const text = (el.textContent || '').trim().slice(0, 40);
    return el.tagName.toLowerCase() + (id ? '[data-testid=' + id + ']' : '') + cls + ' "' + text + '"';
  };
  const visible = (el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
  };
  const titled = (el) => { const t = el.closest('[title]'); return !!(t && t.getAttribute('title')); };
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) problems.push('the page scrolls sideways: ' + root.scrollWidth + ' px wide in ' + root.clientWidth);
  for (const sel of selectors) {
    for (const box of document.querySelectorAll(sel)) {
      if (!visible(box) || box.closest('.viewer-host')) continue;
      const b = box.getBoundingClientRect();
      if (box.scrollWidth > box.clientWidth + 1) problems.push(sel + ' ' + describe(box) + ': content ' + box.scrollWidth + ' px wide in ' + box.clientWidth);
      for (const el of box.querySelectorAll('*')) {
        if (!visible(el) || el.closest('.viewer-host')) continue;
        const s = getComputedStyle(el);
        if (s.position === 'fixed') continue;
        const r = el.getBoundingClientRect();
        if (r.right > b.right + 1 || r.left < b.left - 1) {
          // Clipped by a scrolling or hidden-overflow box inside the container: that box is checked itself.
          let clipper = el.parentElement;
          while (clipper && clipper !== box && getComputedStyle(clipper).overflowX === 'visible') clipper = clipper.parentElement;
          if (!(clipper && clipper !== box))
            problems.push(describe(el) + ' sticks out of ' + sel + ' ' + describe(box) + ' (' + Math.round(r.left) + '..' + Math.round(r.right) + ' vs ' + Math.round(b.left) + '..' + Math.round(b.right) + ')');
        }
        // A text field scrolls its own text by design; everything else must fit or say what it cut.
        const field = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
        if (!field && s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1 && !(s.textOverflow === 'ellipsis' && titled(el)))
          problems.push(describe(el) + ' in ' + sel + ': content ' + el.scrollWidth + ' px wide in ' + el.clientWidth + (s.textOverflow === 'ellipsis' ? ' (cut, no tooltip)' : ''));
      }
    }
  }
  return [...new Set(problems)];
}`;

/**
 * Screenshots of the current screen at 1440x900 and 1024x700 (test-results/<name>-<width>.png),
 * each checked for overflow first; `settle` runs after each resize (e.g. wait for a redraw).
 */
export async function screenshotScreens(page: Page, name: string, settle?: () => Promise<void>): Promise<void> {
  const original = page.viewportSize();
  for (const s of SCREENS) {
    await page.setViewportSize({ width: s.width, height: s.height });
    await page.waitForTimeout(250);
    await settle?.();
    await page.screenshot({ path: join(artifacts, `${name}-${s.name}.png`) });
    expect(await overflowProblems(page), `${name} at ${s.width}x${s.height}`).toEqual([]);
  }
  if (original) await page.setViewportSize(original);
}
