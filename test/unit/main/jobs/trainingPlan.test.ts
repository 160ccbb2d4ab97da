// Training plans at a level of the class tree and the estimate shown before a run: a chosen
// class takes its subclasses' labels (the nearest chosen class wins), the split is seeded, and
// the estimate uses the trainer's own run length and warns about classes with few labels.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Project } from '../../../../src/main/project/project';
import { classMembers, planTraining } from '../../../../src/main/jobs/trainingPlan';
import { estimateTraining, trainingWarnings } from '../../../../src/main/jobs/trainingEstimate';
import { tempDir } from '../../../support/paths';

let project: Project;
const ids: Record<string, number> = {};

beforeEach(() => {
  project = Project.open(join(tempDir(), 'plan.cytotune'), { create: true });
  const add = (name: string, parent?: string) => (ids[name] = project.createClass({ name, parentId: parent ? ids[parent] : null }).id);
  add('Abnormal');
  add('Squamous', 'Abnormal');
  add('HSIL', 'Squamous');
  add('LSIL', 'Squamous');
  add('Glandular', 'Abnormal');
  add('Normal');
  add('NILM', 'Normal');
  const image = project.images.insert({ kind: 'slide', path: '/x/slide.svs', sha256: 'aa', width: 5000, height: 5000, mpp: 0.5 });
  let x = 0;
  const label = (name: string, n: number) => {
    for (let i = 0; i < n; i++)
      project.createAnnotation({ imageId: image.id, classId: ids[name], box: { x: (x += 30), y: 10, w: 24, h: 24 } });
  };
  label('HSIL', 6);
  label('LSIL', 5);
  label('Glandular', 4);
  label('Squamous', 1); // a label only "Squamous": stays with it
  label('NILM', 3);
});
afterEach(() => project.close());

describe('training plans over the class tree', () => {
  it('gives each label to its nearest chosen class', () => {
    const members = classMembers(project.classes.all(), [ids.Abnormal, ids.Squamous, ids.Normal]);
    expect(members.get(ids.Squamous)!.sort()).toEqual([ids.Squamous, ids.HSIL, ids.LSIL].sort());
    expect(members.get(ids.Abnormal)!.sort()).toEqual([ids.Abnormal, ids.Glandular].sort());
    expect(members.get(ids.Normal)!.sort()).toEqual([ids.Normal, ids.NILM].sort());
  });

  it('trains level 1 with every label under each root, and says which subclasses it took', () => {
    const plan = planTraining(project, [ids.Abnormal, ids.Normal], 1);
    expect(plan.classes.map((c) => [c.name, c.train + c.val])).toEqual([
      ['Abnormal', 16],
      ['Normal', 3],
    ]);
    expect(plan.classes[0].includes).toEqual(['Squamous', 'HSIL', 'LSIL', 'Glandular']);
    expect(plan.train.length + plan.val.length).toBe(19);
    expect(new Set([...plan.train, ...plan.val].map((p) => p.key)).size).toBe(19);
    // Seeded: the same plan twice.
    expect(planTraining(project, [ids.Abnormal, ids.Normal], 1)).toEqual(plan);
  });

  it('refuses a class without labels for a run, and lists it as a problem in the estimate', () => {
    const empty = project.createClass({ name: 'Empty' }).id;
    expect(() => planTraining(project, [ids.Abnormal, empty], 1)).toThrow(/no labels yet/);
    expect(trainingWarnings(planTraining(project, [ids.Abnormal, empty], 1, { allowEmpty: true }).classes).problems).toEqual([
      '"Empty" has no labels yet: label a few cells of it first.',
    ]);
  });

  it('estimates the paper run length and warns about thin classes', () => {
    const model = project.addModel({
      path: '/m.safetensors',
      sha256: 'mm',
      sizeBytes: 1,
      family: 'openai-clip',
      config: { imageSize: 224, patchSize: 16 },
      parameterCount: 86e6,
    });
    const e = estimateTraining(project, { modelId: model.id, method: 'lora', classIds: [ids.Abnormal, ids.Normal] });
    // 16 + 3 labels, validation 4 + 1: 14 training images, batch 32 -> 1 batch per epoch.
    expect(e.trainImages).toBe(14);
    expect(e.steps).toBe(50 + 100 * 1);
    expect(e.speedSource).toBe('model size');
    expect(e.imagesPerSecond).toBeGreaterThan(0);
    expect(e.imagesPerSecond).toBeLessThan(5); // a ViT-B on the CPU
    expect(e.warnings).toContain('Normal: only 2 training and 1 validation image; label 5 more for a validation of 4.');
    const quick = estimateTraining(project, {
      modelId: model.id,
      method: 'linear',
      classIds: [ids.Abnormal, ids.Normal],
      settings: { epochs: 20 },
    });
    expect(quick.steps).toBe(20);
    expect(quick.seconds).toBeLessThan(e.seconds);
  });
});
