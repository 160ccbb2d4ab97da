// Writes the hostile checkpoint files to a folder, to try them by hand:
//   npx tsx test/support/hostileCheckpoints/make.ts /tmp/hostile
//   node bin/cytotune.js embed --checkpoint /tmp/hostile/dag-40.bin --tensor x.npy   (or import one in the app)
// The tests build the same files at test time (nothing big is committed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allHostileFiles } from './hostileFiles';

const out = process.argv[2];
if (!out) {
  console.error('usage: npx tsx test/support/hostileCheckpoints/make.ts <folder>');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
for (const f of allHostileFiles()) {
  writeFileSync(join(out, f.name), f.bytes);
  console.log(`${f.name}\t${f.bytes.length} bytes`);
}
