// Peak memory while loading a real-size checkpoint (ViT-B/16, timm layout, random weights, 344 MB
// in fp32) from safetensors and from a torch.save zip: the readers are lazy, so the extra peak
// over the process baseline should stay under 2x the file size (the tfjs copy itself is 1x).
//   node --import tsx bench/ml-inference-load.ts [--family timm-vit] [--keep]
// Each measurement runs in a fresh child process and reports its max RSS.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const family = process.argv.includes('--family') ? process.argv[process.argv.indexOf('--family') + 1] : 'timm-vit';
const SPEC = { family, imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, outputDim: 512 };
const root = join(import.meta.dirname, '..');

function child(code: string): { maxRssMB: number; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) throw new Error(r.stderr.split('\n').filter(Boolean).slice(-3).join(' | '));
  const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { maxRssMB: last.maxRssKB / 1024, out: last.note ?? '' };
}

const dir = mkdtempSync(join(tmpdir(), 'cytotune-load-'));
const st = join(dir, 'vit-b16.safetensors');
const bin = join(dir, 'vit-b16.bin');
try {
  child(`
    import { randomStateDict, writeSafetensors } from './src/ml/models/randomEncoder.ts';
    writeSafetensors(${JSON.stringify(st)}, randomStateDict(${JSON.stringify(SPEC)}, 0));
    console.log(JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS }));`);
  // The same tensors as a torch.save zip, when torch is available.
  const py = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `
import json, struct, torch
f = open(${JSON.stringify(st)}, 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); f.close()
torch.save({k: torch.randn(v['shape']) for k, v in h.items() if k != '__metadata__'}, ${JSON.stringify(bin)})`,
    ],
    { encoding: 'utf8', timeout: 10 * 60_000 },
  );
  const haveBin = py.status === 0;

  const baseline = child(`
    import { selectBackend } from './src/ml/backend/selectBackend.ts';
    await selectBackend();
    console.log(JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS }));`);
  const rows: { format: string; fileMB: number; maxRssMB: number; extraMB: number; ratio: number; seconds: number }[] = [];
  for (const file of haveBin ? [st, bin] : [st]) {
    const r = child(`
      import { selectBackend } from './src/ml/backend/selectBackend.ts';
      import { loadEncoder } from './src/ml/models/loadEncoder.ts';
      await selectBackend();
      const t = performance.now();
      const enc = loadEncoder(${JSON.stringify(file)});
      const s = (performance.now() - t) / 1000;
      console.log(JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS, note: s.toFixed(1) + ' ' + enc.parameterCount() }));`);
    const fileMB = statSync(file).size / 2 ** 20;
    const extra = r.maxRssMB - baseline.maxRssMB;
    rows.push({
      format: file.endsWith('.bin') ? 'torch zip (.bin)' : 'safetensors',
      fileMB,
      maxRssMB: r.maxRssMB,
      extraMB: extra,
      ratio: extra / fileMB,
      seconds: Number(r.out.split(' ')[0]),
    });
  }
  console.log(
    `\nLoading ViT-B/16 (${family}) into tfjs-wasm; process baseline (node + tfjs wasm) ${baseline.maxRssMB.toFixed(0)} MB max RSS`,
  );
  console.log('| format | file MB | max RSS MB | over baseline MB | over baseline / file size | load s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.format} | ${r.fileMB.toFixed(0)} | ${r.maxRssMB.toFixed(0)} | ${r.extraMB.toFixed(0)} | ${r.ratio.toFixed(2)}x | ${r.seconds.toFixed(1)} |`,
    );
  if (!haveBin) console.log('torch zip not measured: /usr/bin/python3 with torch not available');
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `ml-inference-load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ model: SPEC, baselineMaxRssMB: baseline.maxRssMB, rows }, null, 2));
  console.log(`wrote ${file}`);
} finally {
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
}
