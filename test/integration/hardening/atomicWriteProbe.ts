// Child process of atomicWrites.test.ts, run under `ulimit -f` (file size limit, SIGXFSZ
// ignored): every write past the limit fails for real, as on a full disk. Tries to replace
// <dir>/config.json and <dir>/head.safetensors with files larger than the limit.
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/ml/adapters/safetensorsIo';
import { writeJson } from '../../../src/ml/training/runDir';

const dir = process.argv[2];
const results: Record<string, string> = {};
const big = { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, note: 'a label of some length' })) };
await writeJson(join(dir, 'config.json'), big).then(
  () => (results.json = 'written'),
  (e: NodeJS.ErrnoException) => (results.json = e.code ?? e.message),
);
await writeFileAtomic(join(dir, 'head.safetensors'), new Uint8Array(200_000)).then(
  () => (results.bytes = 'written'),
  (e: NodeJS.ErrnoException) => (results.bytes = e.code ?? e.message),
);
process.stdout.write(JSON.stringify(results));
