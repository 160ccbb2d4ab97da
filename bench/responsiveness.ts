// Does the UI stay responsive while a model trains? Main's event-loop delay (perf_hooks)
// and the renderer's frame times (requestAnimationFrame in Chromium, on the training screen
// with its live charts), idle and then while a training job runs in the worker process.
//   node --import tsx bench/responsiveness.ts [--seconds 20] [--width 256]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomStateDict, writeSafetensors } from '../src/ml/models/randomEncoder';
import { launchBrowser } from '../test/support/browser';
import { herlevDir, repoRoot, tempDir } from '../test/support/paths';
import { overHttp } from '../test/support/servers';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const seconds = arg('seconds', 20);
const width = arg('width', 256);

const h = await overHttp();
const dir = tempDir();
await h.client.call('project:create', { path: join(dir, 'resp.cytotune') });
await h.client.call('import:run', { paths: [join(herlevDir, 'normal_columnar'), join(herlevDir, 'severe_dysplastic')].map((p) => p) });
// Images imported from class folders directly are unlabelled; label them by folder through the API.
const classes = [await h.client.call('classes:create', { name: 'columnar' }), await h.client.call('classes:create', { name: 'severe' })];
for (const img of await h.client.call('images:list', { limit: 5000 })) {
  const cls = img.path.includes('normal_columnar') ? classes[0] : classes[1];
  await h.client.call('annotations:create', { imageId: img.id, classId: cls.id, box: { x: 0, y: 0, w: img.width, h: img.height } });
}
const modelPath = join(dir, 'model.safetensors');
writeSafetensors(
  modelPath,
  randomStateDict({ family: 'openai-clip', imageSize: 64, patchSize: 16, width, depth: 4, heads: width / 64, outputDim: 128 }, 3),
);
const model = await h.client.call('models:add', { path: modelPath });

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(h.server!.url + '#/train');
await page.getByTestId('start-run').waitFor();

async function sample(label: string) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await page.evaluate(
    `window.frames_ = []; (function tick(t) { window.frames_.push(t); requestAnimationFrame(tick); })(performance.now());`,
  );
  await page.waitForTimeout(seconds * 1000);
  loop.disable();
  const stamps = (await page.evaluate('window.frames_')) as number[];
  await page.evaluate('window.frames_ = null');
  const d = stamps
    .slice(1)
    .map((t, i) => t - stamps[i])
    .sort((a, b) => a - b);
  const q = (p: number) => +d[Math.min(d.length - 1, Math.floor(p * d.length))].toFixed(1);
  return {
    phase: label,
    mainLoopDelayP50Ms: +(loop.percentile(50) / 1e6).toFixed(1),
    mainLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(1),
    mainLoopDelayMaxMs: +(loop.max / 1e6).toFixed(1),
    frameP50Ms: q(0.5),
    frameP95Ms: q(0.95),
    frameMaxMs: +d[d.length - 1].toFixed(1),
  };
}

const rows = [await sample('idle')];
await h.client.call('runs:start', {
  modelId: model.id,
  method: 'lora',
  classIds: classes.map((c) => c.id),
  settings: { steps: 100_000, batchSize: 8 },
});
await page.getByTestId('train-progress').waitFor({ timeout: 120_000 });
rows.push(await sample('training'));
const run = (await h.client.call('runs:list', {}))[0];
await h.client.call('runs:cancel', { runId: run.id });
await browser.close();
await h.close();

console.log(`\nUI responsiveness with a training job in the worker (ViT width ${width}, depth 4, 64 px, batch 8)`);
console.table(rows);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, 'bench/results/responsiveness.json'),
  JSON.stringify({ date: new Date().toISOString(), width, seconds, rows }, null, 2),
);
