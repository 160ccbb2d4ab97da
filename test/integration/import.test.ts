import { cpSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index';
import { importPaths } from '../../src/main/import/importer';
import { Project } from '../../src/main/project/project';
import { herlevCounts, herlevDir, tempDir } from '../support/paths';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('import of the Herlev ImageFolder', () => {
  it('creates 7 classes and 734 labelled images with the counts of SOURCE.md; again adds nothing', async () => {
    const project = Project.open(join(tempDir(), 'h.cytotune'), { create: true });
    const progress: number[] = [];
    const first = await importPaths(project, [herlevDir], (p) => progress.push(p.done));
    expect(first).toMatchObject({ added: 734, duplicates: 0, labelled: 734, unreadable: [] });
    expect(first.classesCreated.sort()).toEqual(Object.keys(herlevCounts).sort());
    const counts = Object.fromEntries(project.classTree().map((n) => [n.name, n.totalCount]));
    expect(counts).toEqual(herlevCounts);
    expect(project.images.countsByKind()).toEqual({ image: 734, slide: 0 });
    // Each image is labelled as a whole, and has a thumbnail.
    const [img] = project.images.list(0, 1);
    expect(project.annotations.listForImage(img.id)[0]).toMatchObject({ box: { x: 0, y: 0, w: 40, h: 40 }, source: 'import' });
    expect(project.images.thumbnail(img.id)?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(progress.at(-1)).toBe(734);

    const second = await importPaths(project, [herlevDir]);
    expect(second).toMatchObject({ added: 0, duplicates: 734, unreadable: [], classesCreated: [] });
    expect(project.annotations.liveCount()).toBe(734);
    project.close();
  });

  it('reports and skips a corrupt file in a copy of the folder, importing the rest', async () => {
    const copy = join(tempDir(), 'herlev');
    cpSync(join(herlevDir, 'normal_columnar'), join(copy, 'normal_columnar'), { recursive: true });
    writeFileSync(join(copy, 'normal_columnar', 'broken.BMP'), Buffer.from('BM this is not really a bitmap'));
    writeFileSync(join(copy, 'normal_columnar', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    const project = Project.open(join(tempDir(), 'c.cytotune'), { create: true });
    const summary = await importPaths(project, [copy]);
    expect(summary.added).toBe(78);
    expect(summary.unreadable.map((u) => u.path.split('/').pop()).sort()).toEqual(['broken.BMP', 'broken.png']);
    for (const u of summary.unreadable) expect(u.reason.length).toBeGreaterThan(5);
    expect(project.db.pragma('integrity_check', { simple: true })).toBe('ok');
    project.close();
  });

  it('imports loose images unlabelled and refuses paths that do not exist', async () => {
    const dir = tempDir();
    const src = join(herlevDir, 'normal_superficiel');
    for (const f of readdirSync(src).slice(0, 3)) cpSync(join(src, f), join(dir, f));
    const project = Project.open(join(tempDir(), 'u.cytotune'), { create: true });
    const summary = await importPaths(project, [dir, '/no/such/folder']);
    expect(summary).toMatchObject({ added: 3, labelled: 0 });
    expect(summary.unreadable).toEqual([{ path: '/no/such/folder', reason: 'not found' }]);
    expect(project.annotations.liveCount()).toBe(0);
    project.close();
  });
});

describe('headless commands', () => {
  it('init, import and info --json drive the same core', async () => {
    const path = join(tempDir(), 'cli.cytotune');
    expect(await main(['init', '--project', path], captureIo().io)).toBe(0);
    const imp = captureIo();
    expect(await main(['import', '--project', path, herlevDir], imp.io)).toBe(0);
    expect(imp.out[0]).toBe('added 734, duplicates 0, unreadable 0');
    const info = captureIo();
    expect(await main(['info', '--project', path, '--json'], info.io)).toBe(0);
    const parsed = JSON.parse(info.out.join('\n'));
    expect(parsed.images).toEqual({ image: 734, slide: 0 });
    expect(Object.fromEntries(parsed.classes.map((c: { name: string; total: number }) => [c.name, c.total]))).toEqual(herlevCounts);
  });

  it('exit non-zero with a one-line reason on bad input', async () => {
    const missing = captureIo();
    expect(await main(['info', '--project', '/no/such/project'], missing.io)).toBe(1);
    expect(missing.err).toHaveLength(1);
    expect(missing.err[0]).toMatch(/No project file at/);
    const usage = captureIo();
    expect(await main(['import', '--project'], usage.io)).toBe(2);
    expect(usage.err[0]).toMatch(/--project needs a value/);
    const unknown = captureIo();
    expect(await main(['frobnicate'], unknown.io)).toBe(2);
  });
});
