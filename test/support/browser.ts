// Launches Chromium for UI tests: the system one (CHROMIUM_PATH, Debian's /usr/bin/chromium)
// when present, otherwise the one shipped in the @sparticuz/chromium npm package. Never
// downloads a browser.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const flags = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export async function findChromium(): Promise<{ path: string; args: string[] }> {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return { path: candidate, args: flags };
  }
  try {
    const sparticuz = (await import('@sparticuz/chromium')).default;
    return {
      path: await sparticuz.executablePath(),
      args: [...sparticuz.args.filter((a: string) => !a.startsWith('--headless')), ...flags],
    };
  } catch (err) {
    throw new Error(`No Chromium found: install Debian's chromium or set CHROMIUM_PATH (${(err as Error).message})`);
  }
}

export async function launchBrowser(): Promise<Browser> {
  const { path, args } = await findChromium();
  // Playwright gives each launch a fresh, empty profile of its own.
  return chromium.launch({ executablePath: path, args, headless: true });
}
