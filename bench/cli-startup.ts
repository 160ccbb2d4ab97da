// Start-up time and peak memory of the cytotune command, built (out/cli, esbuild) against the
// TypeScript sources through tsx, beside a bare `node -e 0` (the floor any command pays).
//   node --import tsx bench/cli-startup.ts [--runs N] [--no-build]
// Cases: --help and --version (must import no command module; target < 150 ms) and two commands
// whose own start-up is the point (`info` on an empty project, `slide-info` on the real SVS;
// target < 500 ms). Median of N runs each, runs interleaved so machine load hits every mode alike.
// Prints a table and writes bench/results/cli-startup.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot, slidePath, tempDir } from '../test/support/paths';

const args = process.argv.slice(2);
const RUNS = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 9;
const bin = join(repoRoot, 'bin/cytotune.js');
// GNU time reports the child's peak RSS; without it the memory column stays empty.
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

if (!args.includes('--no-build')) {
  const b = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-cli.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('build-cli failed');
}

const project = join(tempDir('cytotune-bench-cli-'), 'bench.cytotune');
const init = spawnSync(process.execPath, [bin, 'init', '--project', project], {
  env: { ...process.env, CYTOTUNE_CLI: 'built' },
  encoding: 'utf8',
});
if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);

const cases: { name: string; argv: string[]; targetMs: number }[] = [
  { name: '--help', argv: ['--help'], targetMs: 150 },
  { name: '--version', argv: ['--version'], targetMs: 150 },
  { name: 'info --project P', argv: ['info', '--project', project], targetMs: 500 },
  { name: 'slide-info SVS', argv: ['slide-info', slidePath], targetMs: 500 },
];
const modes = ['built', 'tsx'] as const;

/** One run: wall milliseconds and peak RSS in MB (null without GNU time). */
function once(argv: string[], env: NodeJS.ProcessEnv): { ms: number; mb: number | null } {
  const cmd = gnuTime ? [gnuTime, '-f', '%M', process.execPath, ...argv] : [process.execPath, ...argv];
  const t0 = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: repoRoot, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  const kb = gnuTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, mb: Number.isFinite(kb) ? kb / 1024 : null };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const samples = new Map<string, { ms: number; mb: number | null }[]>();
const push = (key: string, s: { ms: number; mb: number | null }) => samples.set(key, [...(samples.get(key) ?? []), s]);
const loadBefore = loadavg()[0];
for (let i = 0; i < RUNS; i++) {
  push('node -e 0', once(['-e', '0'], process.env));
  for (const c of cases)
    for (const mode of modes) push(`${mode} ${c.name}`, once([bin, ...c.argv], { ...process.env, CYTOTUNE_CLI: mode }));
}

const summary = (key: string) => {
  const s = samples.get(key)!;
  const mbs = s.map((x) => x.mb).filter((x): x is number => x !== null);
  return {
    medianMs: Math.round(median(s.map((x) => x.ms))),
    minMs: Math.round(Math.min(...s.map((x) => x.ms))),
    peakRssMb: mbs.length ? Math.round(median(mbs)) : null,
  };
};
const floor = summary('node -e 0');
const rows = [
  { case: 'node -e 0 (floor)', mode: '-', ...floor, targetMs: null, meetsTarget: null },
  ...cases.flatMap((c) =>
    modes.map((mode) => {
      const s = summary(`${mode} ${c.name}`);
      return { case: c.name, mode, ...s, targetMs: c.targetMs, meetsTarget: s.medianMs < c.targetMs };
    }),
  ),
];

console.log(`\ncytotune start-up, median of ${RUNS} runs (load average ${loadBefore.toFixed(2)} on ${cpus().length} cores at start)`);
console.table(rows);
for (const c of cases) {
  const b = summary(`built ${c.name}`);
  const t = summary(`tsx ${c.name}`);
  console.log(
    `${c.name}: built ${b.medianMs} ms vs tsx ${t.medianMs} ms (${(t.medianMs / b.medianMs).toFixed(1)}x); ${b.medianMs - floor.medianMs} ms above bare node`,
  );
}
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, 'bench/results/cli-startup.json'),
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, cores: cpus().length, loadAverageAtStart: loadBefore, runs: RUNS, rows },
    null,
    2,
  ) + '\n',
);
