// Item 2 of the hardening issue: image and box bombs. A 31 KB PNG of 16000 x 16000 and a
// 120-byte SVG named .png are refused at import with their reason (quickly, without decoding);
// the viewer refuses such a file already in a project as fast; a label box must overlap its
// image and stay within a patch's size, at the API and in the database; a label from before
// that rule neither costs gigabytes in the gallery nor fails training without its name.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/db/database';
import { importPaths } from '../../../src/main/import/importer';
import { planTraining } from '../../../src/main/jobs/trainingPlan';
import { createMediaRoutes } from '../../../src/main/media/mediaRoutes';
import { Project } from '../../../src/main/project/project';
import { decodeImage } from '../../../src/slides/decodeImage';
import { extractPatch } from '../../../src/slides/patches';
import { openSlide } from '../../../src/slides/slideOpener';
import { TileService } from '../../../src/slides/tileService';
import { herlevDir, tempDir } from '../../support/paths';
import { inProcess, type Harness } from '../../support/servers';
import { writePngBomb, writeSvgBomb } from './helpers';

const dir = tempDir();
const pngBomb = join(dir, 'bomb.png');
const svgBomb = join(dir, 'vector.png');
const cell = join(herlevDir, 'normal_columnar', readdirSync(join(herlevDir, 'normal_columnar')).sort()[0]);

beforeAll(() => {
  writePngBomb(pngBomb, 16000, 16000);
  writeSvgBomb(svgBomb);
});

describe('pixel bombs', () => {
  it('import refuses a 16000 x 16000 PNG of 31 KB with its reason, without decoding it', async () => {
    const project = Project.open(join(tempDir(), 'bomb.cytotune'), { create: true });
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const summary = await importPaths(project, [pngBomb, svgBomb, cell]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    expect(summary.added).toBe(1);
    const reasons = Object.fromEntries(summary.unreadable.map((u) => [u.path, u.reason]));
    expect(reasons[pngBomb]).toMatch(/16000 x 16000 px .*more than the \d+ MP/);
    expect(reasons[svgBomb]).toMatch(/SVG.*not accepted/);
    project.close();
  });

  it('every decode path refuses them the same way (images for training, the viewer)', async () => {
    await expect(decodeImage(pngBomb)).rejects.toThrow(/16000 x 16000 px/);
    await expect(decodeImage(svgBomb)).rejects.toThrow(/SVG/);
    const started = performance.now();
    await expect(openSlide(pngBomb)).rejects.toThrow(/16000 x 16000 px/);
    await expect(openSlide(svgBomb)).rejects.toThrow(/SVG/);
    // A bomb already in a project (imported before the limits): the tile service answers at once.
    const tiles = new TileService({ resolvePath: () => pngBomb });
    await expect(tiles.getTile('1', 0, 0, 0)).rejects.toThrow(/16000 x 16000 px/);
    expect(performance.now() - started).toBeLessThan(3000);
    tiles.close();
  });
});

describe('label boxes', () => {
  let h: Harness;
  let imageId: number;
  let classId: number;
  beforeAll(async () => {
    h = inProcess();
    await h.client.call('project:create', { path: join(tempDir(), 'boxes.cytotune') });
    await h.client.call('import:run', { paths: [cell] });
    imageId = (await h.client.call('images:list', {}))[0].id;
    classId = (await h.client.call('classes:create', { name: 'cell' })).id;
  });
  afterAll(async () => h.close());

  it('the API refuses boxes outside a 40 x 40 image, and keeps a patch around a click near its corner', async () => {
    for (const box of [
      { x: -1e15, y: 0, w: 10, h: 10 },
      { x: 0, y: 0, w: 1e300, h: 10 },
      { x: 0, y: 0, w: 16000, h: 16000 },
      { x: 40, y: 40, w: 10, h: 10 },
    ]) {
      await expect(h.client.call('annotations:create', { imageId, classId, box }), JSON.stringify(box)).rejects.toMatchObject({
        kind: 'invalid-input',
      });
    }
    const ok = await h.client.call('annotations:create', { imageId, classId, box: { x: -92, y: -92, w: 224, h: 224 } });
    await expect(h.client.call('annotations:update', { id: ok.id, box: { x: 0, y: 0, w: 16000, h: 16000 } })).rejects.toMatchObject({
      kind: 'invalid-input',
      message: /at most 8192 px/,
    });
  });
});

describe('labels from before the rule', () => {
  it('are reported on open, cost nothing in the gallery, and training names them', async () => {
    const path = join(tempDir(), 'legacy.cytotune');
    const data = join(tempDir(), 'data');
    for (const c of ['normal_columnar', 'severe_dysplastic']) {
      for (const f of readdirSync(join(herlevDir, c)).sort().slice(0, 4)) cpSync(join(herlevDir, c, f), join(data, c, f));
    }
    // A project at schema 5 (no bounds yet) with one absurd label, as the issue found them.
    const old = openDatabase(path, { create: true, targetVersion: 5 });
    old.close();
    const project = Project.open(path);
    await importPaths(project, [data]);
    project.db.exec(`DROP TRIGGER annotations_box_insert`); // what a schema-5 database allowed
    const image = project.images.list(0, 1)[0];
    const cls = project.classes.all()[0];
    const bad = project.db
      .prepare(
        `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at) VALUES (?, ?, 0, 0, 1e300, 16000, 'manual', 'ana', 'then', 'then')`,
      )
      .run(image.id, cls.id).lastInsertRowid;
    project.close();

    const reopened = Project.open(path);
    expect(reopened.info().warnings.join('\n')).toMatch(new RegExp(`1 label has a box outside its image \\(label ${bad}\\)`));
    expect(reopened.annotations.get(Number(bad))).toBeDefined(); // reported, not dropped

    const started = performance.now();
    const routes = createMediaRoutes({ currentProject: reopened } as never);
    const patch = await routes(`/patches/${bad}.jpg`);
    expect(patch?.status).toBe(404);
    expect(performance.now() - started).toBeLessThan(2000);

    expect(() =>
      planTraining(
        reopened,
        reopened.classes.all().map((c) => c.id),
        1,
      ),
    ).toThrow(new RegExp(`label ${bad} on image \\d+ cannot be trained on`));
    reopened.close();
  });

  it('a patch of a box far larger than its image reads only the image', async () => {
    const reader = await openSlide(cell);
    const rssBefore = process.memoryUsage().rss;
    const patch = await extractPatch(reader, { box: { x: -8000, y: -8000, w: 16000, h: 16000 }, outputSize: 64 });
    expect(patch).toMatchObject({ width: 64, height: 64 });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    reader.close();
  });
});
