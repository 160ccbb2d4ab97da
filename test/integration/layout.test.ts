// The one-way layout of DESIGN.md section 2 is enforced twice, and both checks can fail:
// the lint rule (scripts/lint/layers.js) on any import, and the per-layer TypeScript project.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths';

async function lintAs(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the one-way layout', () => {
  it('lint refuses wrong-way imports, relative or aliased, and accepts the allowed ones', async () => {
    const wrong: [string, string][] = [
      ['src/shared/probe.ts', "import { Project } from '../main/project/project';\nexport const p = Project;\n"],
      ['src/slides/probe.ts', "import { trainRun } from '../ml/training/trainRun';\nexport const p = trainRun;\n"],
      ['src/ml/probe.ts', "export const p = import('../worker/jobs/registry');\n"],
      ['src/main/probe.ts', "import { loadTrainedModel } from '../ml/training/trainedModel';\nexport const p = loadTrainedModel;\n"],
      ['src/renderer/src/probe.ts', "import { Project } from '../../main/project/project';\nexport const p = Project;\n"],
      ['src/main/probe2.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const p = tf;\n"],
    ];
    for (const [file, code] of wrong) expect((await lintAs(file, code)).join('\n'), file).toMatch(/layers\/one-way|no-restricted-imports/);
    const right: [string, string][] = [
      ['src/ml/probe.ts', "import { openSlide } from '../slides/slideOpener';\nexport const p = openSlide;\n"],
      ['src/renderer/src/probe.ts', "import type { Box } from '@shared/image';\nexport type P = Box;\n"],
      ['src/main/probe.ts', "import { RUN_FILES } from '../ml/training/runDir';\nexport const p = RUN_FILES;\n"],
    ];
    for (const [file, code] of right) expect(await lintAs(file, code), file).toEqual([]);
  });

  it('the slides project refuses a file that imports the ML library (TS6307)', () => {
    const probe = join(repoRoot, 'src/slides/layerProbe.tmp.ts');
    writeFileSync(probe, "import { hashSeed } from '../ml/random';\nexport const probe = hashSeed;\n");
    try {
      const tsc = (...args: string[]) =>
        execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), ...args], { cwd: repoRoot, encoding: 'utf8' });
      // The slides project reads shared through its declarations: build those, then check
      // slides alone without writing anything.
      tsc('-b', 'tsconfig.shared.json');
      let output = '';
      try {
        tsc('--noEmit', '-p', 'tsconfig.slides.json');
      } catch (err) {
        output = String((err as { stdout?: string }).stdout);
      }
      expect(output).toMatch(/TS6307/);
    } finally {
      rmSync(probe, { force: true });
    }
  });
});
