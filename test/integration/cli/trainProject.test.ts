// `cytotune train --project FILE`: a project's labels (whole-image labels and patches drawn on a
// slide) trained as the workstation trains them: the run is recorded in the project, main splits
// the labels (trainingPlan), and the ML worker process trains (the same job the Train tab submits).
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as importCommand } from '../../../src/cli/commands/import';
import { runTrain } from '../../../src/cli/commands/train';
import { Project } from '../../../src/main/project/project';
import { capture } from '../../support/experimentFixtures';
import { herlevDir, slidePath, tempDir } from '../../support/paths';
import { writeTinyCheckpoint } from '../../support/tinyModel';

let dir: string;
let project: string;
let ckpt: string;

beforeAll(async () => {
  dir = tempDir('cytotune-train-project-');
  project = join(dir, 'lab.cytotune');
  ckpt = writeTinyCheckpoint(dir);
  // Copies, not links: the importer keeps the files it is given.
  const data = join(dir, 'cells');
  for (const [cls, herlev] of [
    ['normal', 'normal_superficiel'],
    ['abnormal', 'severe_dysplastic'],
  ])
    for (const f of readdirSync(join(herlevDir, herlev)).sort().slice(0, 5)) cpSync(join(herlevDir, herlev, f), join(data, cls, f));
  const c = capture();
  Project.open(project, { create: true }).close();
  expect(await importCommand.run(['--project', project, data, slidePath], c.io), c.err.join('\n')).toBe(0);
  // Three patches drawn on the slide, labelled "abnormal", as a click in the viewer makes them.
  const p = Project.open(project);
  try {
    const slide = p.images.list().find((i) => i.kind === 'slide')!;
    const abnormal = p.classes.all().find((x) => x.name === 'abnormal')!;
    for (const x of [100, 400, 700]) p.createAnnotation({ imageId: slide.id, classId: abnormal.id, box: { x, y: 200, w: 224, h: 224 } });
  } finally {
    p.close();
  }
});
afterAll(() => {});

describe('cytotune train --project', () => {
  it('trains on the labels (slide patches included) through the worker and records the run in the project', async () => {
    const c = capture();
    const code = await runTrain(
      ['--project', project, '--checkpoint', ckpt, '--method', 'lora', '--steps', '4', '--batch', '4', '--lr', '1e-2'],
      c.io,
    );
    expect(code, [...c.out, ...c.err].join('\n')).toBe(0);
    expect(c.out[0]).toMatch(/^added model \d+ to the project: openai-clip/);
    // 5 + 3 abnormal labels, 5 normal; validation min(4, labels / 2) per class as the workstation plans it.
    expect(c.out[1]).toMatch(/^run \d+: lora on 2 classes \(train\+val labels: abnormal 4\+4, normal 3\+2\)$/);
    expect(c.out.at(-1)).toMatch(/^done: run \d+, 4 steps in [\d.]+ s, val top-1 [\d.]+ %; wrote .*run-\d+$/);
    const p = Project.open(project);
    try {
      const [run] = p.runs.list();
      expect(run).toMatchObject({ status: 'completed' });
      expect(run.metrics).toMatchObject({ steps: 4, classNames: ['abnormal', 'normal'] });
      const runDir = run.adapterPath!;
      expect(readdirSync(runDir)).toEqual(
        expect.arrayContaining(['adapter.safetensors', 'head.safetensors', 'config.json', 'model-card.md']),
      );
      const cfg = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
      expect(cfg.data).toMatchObject({ source: 'project labels', trainImages: 7, valImages: 6 });
      // The heads guess (width 64 / 64) is named with its reason.
      expect(cfg.heads).toMatchObject({ value: 1, source: 'width/64 guess' });
    } finally {
      p.close();
    }
    // A second run reuses the model the first one added.
    const again = capture();
    expect(
      await runTrain(
        ['--project', project, '--checkpoint', ckpt, '--method', 'linear', '--steps', '2', '--classes', 'abnormal,normal'],
        again.io,
      ),
    ).toBe(0);
    expect(again.out[0]).toMatch(/^run \d+: linear on 2 classes/);
  });

  it('refuses options the workstation does not take, unknown classes and a missing project', async () => {
    const a = capture();
    expect(
      await runTrain(['--project', project, '--checkpoint', ckpt, '--method', 'lora', '--shots', '2', '--out', join(dir, 'x')], a.io),
    ).toBe(2);
    expect(a.err[0]).toMatch(/--out, --shots cannot be used with --project: it trains as the workstation does/);
    const b = capture();
    expect(await runTrain(['--project', project, '--checkpoint', ckpt, '--method', 'lora', '--classes', 'normal,nope'], b.io)).toBe(1);
    expect(b.err[0]).toMatch(/--classes: no class "nope" in the project \(classes: abnormal, normal\)/);
    const c = capture();
    expect(await runTrain(['--data', dir, '--classes', 'a', '--checkpoint', ckpt, '--method', 'lora', '--out', join(dir, 'y')], c.io)).toBe(
      2,
    );
    expect(c.err[0]).toMatch(/--classes picks classes of a --project/);
    expect(existsSync(join(dir, 'y'))).toBe(false);
    const d = capture();
    expect(await runTrain(['--project', join(dir, 'none.cytotune'), '--checkpoint', ckpt, '--method', 'lora'], d.io)).toBe(1);
    expect(d.err[0]).toMatch(/none\.cytotune/);
  });
});
