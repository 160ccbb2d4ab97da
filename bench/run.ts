// `npm run bench`: every benchmark in turn, each printing its table and writing JSON to
// bench/results/. Name some to run only those: npm run bench -- tiles overlay
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/support/paths';

const all = ['tiles', 'overlay', 'responsiveness', 'ml-inference', 'onnx', 'int8', 'classify', 'cells', 'train-step', 'lab'];
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const failed: string[] = [];
for (const name of chosen.length ? chosen : all) {
  const file = join(repoRoot, 'bench', `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`no benchmark named ${name} (have: ${all.join(', ')})`);
    failed.push(name);
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) failed.push(name);
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
