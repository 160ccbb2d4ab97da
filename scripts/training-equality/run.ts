// Training equality against the paper's PyTorch code: `cytotune train` and reference.py (Debian's
// python3-torch) train the same tiny parity-fixture model from the same initial adapter and head
// on the same pre-processed tensors, batch for batch, for N AdamW steps with the paper's schedule;
// this compares every step's loss and learning rate and the final LoRA and head weights.
//   node --import tsx scripts/training-equality/run.ts [--case NAME]... [--json OUT.json]
// Per case: real Herlev images through the family's evaluation pipeline -> X.npy + labels.txt;
// `cytotune train --steps 0` writes the seeded initial state; reference.py loads it and trains on
// the batches CytoTune's seeded sampler draws; `cytotune train --init-adapter/--init-head` trains
// the same steps (LoRA dropout 0, no augmentation: nothing random is left). Exit 1 above 1e-4.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTrain } from '../../src/cli/commands/train';
import { readWeightsFile, type HostTensor } from '../../src/ml/adapters/safetensorsIo';
import { formatNpy } from '../../src/ml/checkpoint/npy';
import { EpochSampler } from '../../src/ml/data/epochSampler';
import { loadImageBatch } from '../../src/ml/data/loadImages';
import { checkpointConfig } from '../../src/ml/onnx/checkpointConfig';
import { PAPER_DEFAULTS } from '../../src/shared/training';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(root, 'test/fixtures/ml');
const HERLEV = join(root, 'test/fixtures/data/herlev-40px');
export const PYTHON = process.env.CYTOTUNE_PYTHON ?? '/usr/bin/python3';

export interface EqualityCase {
  name: string;
  family: 'openai-clip' | 'hf-clip' | 'timm-vit' | 'open-clip-timm' | 'hf-vit';
  /** Parity fixture in test/fixtures/ml (width 16, 2 blocks, 2 heads, 32 px). */
  checkpoint: string;
  method: 'lora' | 'linear';
  rank: number;
  targets: string;
  steps: number;
  batch: number;
  microBatch?: number;
  /** Gradient worker processes (LoRA); real-size models pick them automatically, tiny ones do not. */
  processes?: number;
  backend: 'wasm' | 'cpu';
  lr: number;
  seed: number;
  /** Herlev classes and images per class in the tensor. */
  classes: string[];
  perClass: number;
}

export interface EqualityResult {
  name: string;
  steps: number;
  /** max over steps of |loss_cytotune - loss_torch| / |loss_torch|. */
  lossRel: number;
  /** max over steps of |lr_cytotune - lr_torch| / lr_torch. */
  lrRel: number;
  /** max over tensors of ||w_cytotune - w_torch|| / ||w_torch|| (L2). */
  weightRel: number;
  /** max over tensors of ||w_cytotune - w_torch|| / ||w_torch - w_init||: the difference against what training changed. */
  updateRel: number;
  /** min over tensors of ||w_torch - w_init|| / ||w_torch||: training really moved the weights. */
  moved: number;
  tensors: number;
  torch: string;
  /** CytoTune's execution line (LoRA): processes and micro-batch actually used. */
  execution: string;
}

const THREE = ['normal_superficiel', 'light_dysplastic', 'carcinoma_in_situ'];
const base = { steps: 60, batch: 8, lr: 1e-2, seed: 3, classes: THREE, perClass: 8, rank: 2, targets: 'q,v', method: 'lora' as const };

/** The cases the runner checks by default (the vitest test picks two families of them). */
export const CASES: EqualityCase[] = [
  { ...base, name: 'timm-vit q,v r2', family: 'timm-vit', checkpoint: 'timm-vit.safetensors', backend: 'wasm' },
  { ...base, name: 'openai-clip q,v r2', family: 'openai-clip', checkpoint: 'openai-clip.safetensors', backend: 'wasm' },
  {
    ...base,
    name: 'openai-clip q,k,v,o r16 micro-batch 3, cpu',
    family: 'openai-clip',
    checkpoint: 'openai-clip.safetensors',
    rank: 16,
    targets: 'q,k,v,o',
    microBatch: 3,
    backend: 'cpu',
  },
  {
    ...base,
    name: 'timm-vit q,k,v,o r4, 2 processes',
    family: 'timm-vit',
    checkpoint: 'timm-vit.safetensors',
    rank: 4,
    targets: 'q,k,v,o',
    processes: 2,
    backend: 'wasm',
  },
  { ...base, name: 'hf-clip q,v r2', family: 'hf-clip', checkpoint: 'hf-clip.safetensors', backend: 'wasm' },
  {
    ...base,
    name: 'open-clip-timm q,k,v,o r8',
    family: 'open-clip-timm',
    checkpoint: 'open-clip-timm.safetensors',
    rank: 8,
    targets: 'q,k,v,o',
    backend: 'wasm',
  },
  { ...base, name: 'hf-vit q,k,v,o r2', family: 'hf-vit', checkpoint: 'hf-vit.safetensors', targets: 'q,k,v,o', backend: 'wasm' },
  {
    ...base,
    name: 'openai-clip linear probe',
    family: 'openai-clip',
    checkpoint: 'openai-clip.safetensors',
    method: 'linear',
    backend: 'wasm',
  },
];

const silent = { out: () => {}, err: (s: string) => process.stderr.write(s + '\n') };

async function train(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const code = await runTrain(args, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
  if (code !== 0) throw new Error(`cytotune train ${args.join(' ')} exited ${code}:\n${lines.join('\n')}`);
  return lines;
}

/** Herlev images through the fixture family's evaluation pipeline: X.npy [N, 3, S, S] and labels.txt. */
async function writeInputs(c: EqualityCase, ckpt: string, dir: string): Promise<{ tensor: string; labels: string; labelList: number[] }> {
  const cfg = checkpointConfig(ckpt, { heads: 2 });
  const paths: string[] = [];
  const names: string[] = [];
  c.classes.forEach((cls) => {
    for (const f of readdirSync(join(HERLEV, cls)).sort().slice(0, c.perClass)) {
      paths.push(join(HERLEV, cls, f));
      names.push(cls);
    }
  });
  const data = await loadImageBatch(paths, cfg);
  const tensor = join(dir, 'x.npy');
  writeFileSync(tensor, formatNpy({ shape: [paths.length, 3, cfg.imageSize, cfg.imageSize], data }));
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, names.join('\n') + '\n');
  const sorted = [...new Set(names)].sort();
  return { tensor, labels, labelList: names.map((n) => sorted.indexOf(n)) };
}

const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
const diffNorm = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

async function weights(dir: string, files: string[]): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const f of files) for (const [k, v] of (await readWeightsFile(join(dir, f))).tensors) out.set(k, v);
  return out;
}

export async function runCase(c: EqualityCase, workDir?: string): Promise<EqualityResult> {
  const dir = workDir ?? mkdtempSync(join(tmpdir(), 'cytotune-equality-'));
  mkdirSync(dir, { recursive: true });
  const ckpt = join(FIXTURES, c.checkpoint);
  const input = await writeInputs(c, ckpt, dir);
  const common = ['--tensor', input.tensor, '--labels', input.labels, '--checkpoint', ckpt, '--heads', '2', '--method', c.method];
  const lora = c.method === 'lora' ? ['--rank', String(c.rank), '--targets', c.targets] : [];
  const init = join(dir, 'init');
  await train([...common, ...lora, '--seed', String(c.seed), '--steps', '0', '--backend', c.backend, '--out', init]);

  // The batches CytoTune's trainer draws (same sampler, same seed), for the reference to use.
  const n = input.labelList.length;
  const sampler = new EpochSampler(n, c.batch, c.seed);
  const batches = Array.from({ length: c.steps }, () => sampler.next());
  const d = PAPER_DEFAULTS.train;
  const refOut = join(dir, 'torch');
  const caseFile = join(dir, 'case.json');
  writeFileSync(
    caseFile,
    JSON.stringify({
      checkpoint: ckpt,
      family: c.family,
      tensor: input.tensor,
      labels: input.labelList,
      batches,
      method: c.method,
      rank: c.rank,
      alpha: d.lora.alpha,
      dropout: 0,
      targets: c.targets.split(','),
      lr: c.lr,
      // CytoTune shortens the warm-up of runs shorter than it (training/schedule.ts scheduleFor).
      warmup: Math.min(d.warmupSteps, Math.max(0, c.steps - 1)),
      minLr: d.minLr,
      weightDecay: d.weightDecay,
      beta1: d.beta1,
      beta2: d.beta2,
      eps: d.eps,
      initAdapter: join(init, 'adapter.safetensors'),
      initHead: join(init, 'head.safetensors'),
      out: refOut,
    }),
  );
  const py = spawnSync(PYTHON, [join(root, 'scripts/training-equality/reference.py'), caseFile], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (py.status !== 0) throw new Error(`reference.py failed (${py.status ?? py.error?.message}):\n${py.stderr}`);

  const run = join(dir, 'run');
  const printed = await train([
    ...common,
    ...lora,
    ...(c.method === 'lora' ? ['--init-adapter', join(init, 'adapter.safetensors'), '--dropout', '0'] : []),
    '--init-head',
    join(init, 'head.safetensors'),
    '--seed',
    String(c.seed),
    '--steps',
    String(c.steps),
    '--batch',
    String(c.batch),
    ...(c.microBatch ? ['--micro-batch', String(c.microBatch)] : []),
    ...(c.processes ? ['--processes', String(c.processes)] : []),
    '--lr',
    String(c.lr),
    '--backend',
    c.backend,
    '--out',
    run,
  ]);

  const ref = JSON.parse(readFileSync(join(refOut, 'result.json'), 'utf8')) as { losses: number[]; lrs: number[]; torch: string };
  const log = readFileSync(join(run, 'train-log.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
  if (log.length !== c.steps || ref.losses.length !== c.steps)
    throw new Error(`expected ${c.steps} steps, got ${log.length} and ${ref.losses.length}`);
  const lossRel = Math.max(...log.map(([, loss], i) => Math.abs(loss - ref.losses[i]) / Math.abs(ref.losses[i])));
  const lrRel = Math.max(...log.map(([, , lr], i) => Math.abs(lr - ref.lrs[i]) / ref.lrs[i]));
  const files = c.method === 'lora' ? ['adapter.safetensors', 'head.safetensors'] : ['head.safetensors'];
  const mine = await weights(run, files);
  const start = await weights(init, files);
  const theirs = (await readWeightsFile(join(refOut, 'final.safetensors'))).tensors;
  let weightRel = 0;
  let updateRel = 0;
  let moved = Infinity;
  for (const [name, t] of theirs) {
    const m = mine.get(name);
    const s0 = start.get(name);
    if (!m || !s0) throw new Error(`cytotune wrote no ${name}`);
    const dist = diffNorm(m.data, t.data);
    weightRel = Math.max(weightRel, dist / norm(t.data));
    updateRel = Math.max(updateRel, dist / diffNorm(t.data, s0.data));
    moved = Math.min(moved, diffNorm(t.data, s0.data) / norm(t.data));
  }
  if (theirs.size !== mine.size) throw new Error(`cytotune wrote ${mine.size} tensors, the reference ${theirs.size}`);
  if (!workDir) rmSync(dir, { recursive: true, force: true });
  const execution = printed.find((l) => l.startsWith('execution:')) ?? '';
  return { name: c.name, steps: c.steps, lossRel, lrRel, weightRel, updateRel, moved, tensors: theirs.size, torch: ref.torch, execution };
}

export const TOLERANCE = 1e-4;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const names = argv.flatMap((a, i) => (argv[i - 1] === '--case' ? [a] : []));
  const jsonOut = argv[argv.indexOf('--json') + 1];
  const cases = names.length ? CASES.filter((c) => names.some((n) => c.name.includes(n))) : CASES;
  const results: EqualityResult[] = [];
  silent.err(`${cases.length} case(s), ${PYTHON}`);
  for (const c of cases) {
    const r = await runCase(c);
    results.push(r);
    const e = (x: number) => x.toExponential(1);
    process.stdout.write(
      `${r.name.padEnd(46)} ${r.steps} steps  loss ${e(r.lossRel)}  lr ${e(r.lrRel)}  weights ${e(r.weightRel)}  vs update ${e(r.updateRel)}  (moved ${e(r.moved)}, ${r.tensors} tensors)${r.execution ? `\n  ${r.execution}` : ''}\n`,
    );
  }
  if (argv.includes('--json') && jsonOut)
    writeFileSync(jsonOut, JSON.stringify({ torch: results[0]?.torch, tolerance: TOLERANCE, results }, null, 2) + '\n');
  const bad = results.filter((r) => r.lossRel > TOLERANCE || r.weightRel > TOLERANCE);
  if (bad.length) {
    process.stderr.write(`above ${TOLERANCE}: ${bad.map((r) => r.name).join(', ')}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
