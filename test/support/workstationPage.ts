// A browser page on browser mode for UI tests: the server over a fresh workspace, Chromium,
// one page at a workstation-sized viewport, page errors printed, screenshots in test-results/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { repoRoot } from './paths';
import { overHttp, type Harness } from './servers';

export const artifacts = join(repoRoot, 'test-results');

export interface Workstation {
  h: Harness;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

export async function openWorkstation(viewport = { width: 1400, height: 900 }): Promise<Workstation> {
  mkdirSync(artifacts, { recursive: true });
  const h = await overHttp();
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return {
    h,
    browser,
    page,
    close: async () => {
      await browser.close();
      await h.close();
    },
  };
}
