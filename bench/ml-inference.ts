// Inference throughput of the ViT-B/16 encoder at real size with random weights (no pretrained
// weights can be downloaded here), on the tfjs backend selectBackend() picks, and of the same
// model in PyTorch (Debian python3-torch) when it is installed, in the same run.
//   node --import tsx bench/ml-inference.ts [--batches 1,32] [--micro 8] [--runs 3] [--family timm-vit] [--no-torch] [--no-backward]
// Prints a table and the tfjs/torch ratio, writes JSON to bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/ml/backend/selectBackend';
import type { FamilyName } from '../src/ml/models/encoder';
import { createRandomEncoder } from '../src/ml/models/randomEncoder';
import { frozenDense } from '../src/ml/models/frozenDense';
import type { ProjectionHook } from '../src/ml/models/encoder';
import type { VitEncoder } from '../src/ml/models/vit';

interface Row {
  runtime: string;
  threads: number;
  batch: number;
  microBatch: number;
  secondsPerBatch: number;
  imagesPerSecond: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const batches = arg('batches', '1,32').split(',').map(Number);
const micro = Number(arg('micro', '8'));
const runs = Number(arg('runs', '3'));
const family = arg('family', 'timm-vit') as FamilyName;
const withTorch = !process.argv.includes('--no-torch');
const withBackward = !process.argv.includes('--no-backward');
const SPEC = { family, imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, mlpDim: 3072, outputDim: 512 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Seconds for one forward+backward at batch 1 with LoRA r=2 on q,v (gradients for A, B only). */
function backwardSeconds(enc: VitEncoder): number {
  const w = enc.config.width;
  const x = tf.randomNormal([1, 3, 224, 224], 0, 1, 'float32', 1) as tf.Tensor4D;
  const ab = [0, 1, 2, 3].map((i) => tf.randomNormal(i % 2 ? [2, w] : [w, 2], 0, 0.01, 'float32', i) as tf.Tensor2D);
  const step = () =>
    tf.tidy(() => {
      const f = (aq: tf.Tensor, bq: tf.Tensor, av: tf.Tensor, bv: tf.Tensor) => {
        const hook: ProjectionHook = (_b, name, h, base) => {
          const y = frozenDense(h, base);
          if (name === 'q') return tf.add(y, tf.matMul(tf.matMul(h, aq as tf.Tensor2D), bq as tf.Tensor2D));
          if (name === 'v') return tf.add(y, tf.matMul(tf.matMul(h, av as tf.Tensor2D), bv as tf.Tensor2D));
          return y;
        };
        return tf.sum(enc.embed(x, hook, true)) as tf.Scalar;
      };
      tf.grads(f)(ab).forEach((g) => g.dataSync());
    });
  step(); // warm-up
  const t = performance.now();
  step();
  tf.dispose([x, ...ab]);
  return (performance.now() - t) / 1000;
}

async function benchTfjs(): Promise<{ rows: Row[]; backend: string; loadSeconds: number; backward?: { stock: number; prepared: number } }> {
  const choice = await selectBackend();
  const t0 = performance.now();
  const enc = createRandomEncoder(SPEC, 0);
  const loadSeconds = (performance.now() - t0) / 1000;
  const rows: Row[] = [];
  for (const batch of batches) {
    const mb = Math.min(batch, micro);
    const x = tf.randomNormal([mb, 3, 224, 224], 0, 1, 'float32', 1) as tf.Tensor4D;
    const pass = () => {
      // The batch in micro-batches: the wasm heap is 4 GiB, a ViT-B batch of 32 in one call may not fit.
      for (let done = 0; done < batch; done += mb) {
        const y = enc.embed(x);
        y.dataSync();
        y.dispose();
      }
    };
    pass(); // warm-up (kernel setup, XNNPACK packing)
    const times: number[] = [];
    const n = batch >= 16 ? 1 : runs;
    for (let r = 0; r < n; r++) {
      const t = performance.now();
      pass();
      times.push((performance.now() - t) / 1000);
    }
    x.dispose();
    const s = median(times);
    rows.push({ runtime: `tfjs-${choice.backend}`, threads: 1, batch, microBatch: mb, secondsPerBatch: s, imagesPerSecond: batch / s });
    console.error(`tfjs ${choice.backend} batch ${batch}: ${(batch / s).toFixed(3)} images/s`);
  }
  let backward: { stock: number; prepared: number } | undefined;
  if (withBackward) {
    const stock = backwardSeconds(enc);
    enc.prepareForTraining();
    const prepared = backwardSeconds(enc);
    enc.releaseTrainingBuffers();
    backward = { stock, prepared };
    console.error(`tfjs ${choice.backend} fwd+bwd batch 1: stock ${stock.toFixed(2)} s, prepareForTraining ${prepared.toFixed(2)} s`);
  }
  enc.dispose();
  return { rows, backend: choice.backend, loadSeconds, backward };
}

// The same pre-norm ViT-B/16 in plain torch (timm layout), timed under torch.no_grad().
const TORCH_SCRIPT = String.raw`
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
threads, batches, runs, micro = int(sys.argv[1]), [int(b) for b in sys.argv[2].split(',')], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads); torch.manual_seed(0)
W, D, H, P, S = 768, 12, 12, 16, 224
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.n1 = nn.LayerNorm(W, eps=1e-6); s.qkv = nn.Linear(W, 3 * W); s.proj = nn.Linear(W, W)
        s.n2 = nn.LayerNorm(W, eps=1e-6); s.fc1 = nn.Linear(W, 4 * W); s.fc2 = nn.Linear(4 * W, W)
    def forward(s, x):
        B, N, C = x.shape
        q, k, v = s.qkv(s.n1(x)).reshape(B, N, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * (C // H) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + s.proj((a @ v).transpose(1, 2).reshape(B, N, C))
        return x + s.fc2(F.gelu(s.fc1(s.n2(x))))
class Vit(nn.Module):
    def __init__(s):
        super().__init__(); s.pe = nn.Conv2d(3, W, P, P); s.cls = nn.Parameter(torch.zeros(1, 1, W))
        s.pos = nn.Parameter(torch.randn(1, (S // P) ** 2 + 1, W) * .02); s.blocks = nn.Sequential(*[Block() for _ in range(D)]); s.norm = nn.LayerNorm(W, eps=1e-6)
    def forward(s, x):
        x = s.pe(x).flatten(2).transpose(1, 2); x = torch.cat([s.cls.expand(x.shape[0], -1, -1), x], 1) + s.pos
        return s.norm(s.blocks(x))[:, 0]
m = Vit().eval(); rows = []
with torch.no_grad():
    for b in batches:
        mb = min(b, micro); x = torch.randn(mb, 3, S, S)
        def run():
            for _ in range(0, b, mb): m(x)
        run(); ts = []
        for _ in range(runs if b < 16 else 1):
            t = time.perf_counter(); run(); ts.append(time.perf_counter() - t)
        s = sorted(ts)[len(ts) // 2]
        rows.append(dict(runtime='torch-' + torch.__version__, threads=threads, batch=b, microBatch=mb, secondsPerBatch=s, imagesPerSecond=b / s))
print(json.dumps(dict(rows=rows, blas=torch.__config__.show().count('openblas') > 0 or 'OpenBLAS' in torch.__config__.show())))
`;

function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

function benchTorch(py: string, threads: number): Row[] {
  const r = spawnSync(py, ['-c', TORCH_SCRIPT, String(threads), batches.join(','), String(runs), String(micro)], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  });
  if (r.status !== 0) throw new Error(`torch bench failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  const rows = JSON.parse(r.stdout.trim().split('\n').pop()!).rows as Row[];
  for (const row of rows)
    console.error(`${row.runtime} ${threads} thread(s) batch ${row.batch}: ${row.imagesPerSecond.toFixed(3)} images/s`);
  return rows;
}

const tfjs = await benchTfjs();
const rows = [...tfjs.rows];
let torchNote = 'not run (--no-torch)';
if (withTorch) {
  const py = findTorchPython();
  if (!py) torchNote = 'python3-torch not installed';
  else {
    for (const t of [1, 2]) rows.push(...benchTorch(py, t));
    torchNote = `${py}`;
  }
}

console.log(`\nViT-B/16 (${family} layout, 224 px, random weights) inference, ${new Date().toISOString()}`);
console.log('| runtime | threads | batch | micro-batch | s / batch | images / s | tfjs time / this |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const ref = tfjs.rows.find((x) => x.batch === r.batch)!;
  console.log(
    `| ${r.runtime} | ${r.threads} | ${r.batch} | ${r.microBatch} | ${r.secondsPerBatch.toFixed(2)} | ${r.imagesPerSecond.toFixed(3)} | ${(ref.secondsPerBatch / r.secondsPerBatch).toFixed(2)}x |`,
  );
}
if (tfjs.backward) {
  const b = tfjs.backward;
  console.log(
    `tfjs-${tfjs.backend} forward+backward, batch 1, LoRA r=2 on q,v: stock ${b.stock.toFixed(2)} s, after prepareForTraining ${b.prepared.toFixed(2)} s (${(b.stock / b.prepared).toFixed(2)}x)`,
  );
}
console.log(`tfjs model build from random state dict: ${tfjs.loadSeconds.toFixed(1)} s; torch: ${torchNote}`);
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `ml-inference-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      model: SPEC,
      backend: tfjs.backend,
      node: process.versions.node,
      rows,
      backward: tfjs.backward,
      torch: torchNote,
      loadAverage: (await import('node:os')).loadavg(),
    },
    null,
    2,
  ),
);
console.log(`wrote ${file}`);
