// Frame time of the labelling view with 2,000 labels on CMU-1-Small-Region.svs while the
// user pans and zooms, in Chromium against browser mode (software rendering, no GPU).
//   node --import tsx bench/overlay.ts [--labels 2000] [--frames 240]
// Prints a table and writes bench/results/overlay.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../test/support/browser';
import { overHttp } from '../test/support/servers';
import { repoRoot, slidePath, tempDir } from '../test/support/paths';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const labelCount = arg('labels', 2000);

/** Pans and zooms the labelling view of a slide holding `labelCount` labels; frame-time stats. */
async function measure(labelCount: number) {
  const h = await overHttp();
  await h.client.call('project:create', { path: join(tempDir(), 'bench.cytotune') });
  const cls = await h.client.call('classes:create', { name: 'cell', shortcut: '1' });
  await h.client.call('import:run', { paths: [slidePath] });
  const image = (await h.client.call('images:list', {}))[0];
  const project = h.workspace.currentProject!;
  project.transaction(() => {
    for (let i = 0; i < labelCount; i++) {
      const x = (i * 7919) % (image.width - 64);
      const y = (i * 104729) % (image.height - 64);
      project.annotations.insert({ imageId: image.id, classId: cls.id, box: { x, y, w: 64, h: 64 }, source: 'manual', author: 'bench' });
    }
  });

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(h.server!.url + `#/image/${image.id}`);
  await page.getByTestId('label-count').getByText(String(labelCount), { exact: true }).waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const cx = box.x + box.width * 0.4;
  const cy = box.y + box.height / 2;

  // Record every animation frame's timestamp while we pan back and forth and zoom.
  // A string, not a function: tsx would wrap a function's inner names with helpers the page lacks.
  await page.evaluate(
    `window.frames_ = []; (function tick(t) { window.frames_.push(t); requestAnimationFrame(tick); })(performance.now());`,
  );
  const started = Date.now();
  await page.mouse.move(cx, cy);
  for (let round = 0; round < 4; round++) {
    await page.mouse.wheel(0, round % 2 ? 300 : -300);
    await page.mouse.down();
    for (let s = 0; s < 30; s++) await page.mouse.move(cx + (round % 2 ? -s : s) * 8, cy + s * 3);
    await page.mouse.up();
    await page.waitForTimeout(300);
  }
  const elapsed = Date.now() - started;
  const stamps = (await page.evaluate('window.frames_')) as number[];
  const deltas = stamps
    .slice(1)
    .map((t, i) => t - stamps[i])
    .sort((a, b) => a - b);
  const q = (p: number) => deltas[Math.min(deltas.length - 1, Math.floor(p * deltas.length))];
  const result = {
    labels: labelCount,
    frames: deltas.length,
    seconds: elapsed / 1000,
    medianFrameMs: +q(0.5).toFixed(2),
    p95FrameMs: +q(0.95).toFixed(2),
    maxFrameMs: +deltas[deltas.length - 1].toFixed(2),
    fps: +(1000 / q(0.5)).toFixed(1),
  };
  await browser.close();
  await h.close();
  return result;
}

// The same gestures without labels, in the same run, is the reference: the ratio is what the overlay costs.
const rows = [await measure(0), await measure(labelCount)];
console.log('\nLabelling view, pan and zoom, labels drawn on one canvas (headless Chromium, software GL)');
console.table(rows);
console.log(`median frame time with ${labelCount} labels / without: ${(rows[1].medianFrameMs / rows[0].medianFrameMs).toFixed(2)}x`);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/overlay.json'), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
