// Import under hostile conditions (hardening items 3 and 8): a full disk stops the import with
// the designed message and a summary of what was committed (real SQLITE_FULL: the real engine
// with PRAGMA max_page_count); devices and FIFOs are listed, never read, and never cost the
// other paths of the call; symbolic links are followed as training follows them, and listed;
// a corrupt header gets a reason; a tiled TIFF is a slide, not a plain image.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { importPaths } from '../../../src/main/import/importer';
import { Project } from '../../../src/main/project/project';
import { scanImageFolder } from '../../../src/ml/data/imageFolder';
import { herlevDir, tempDir } from '../../support/paths';

function classCopy(classes: string[], perClass: number): string {
  const root = join(tempDir(), 'data');
  for (const c of classes) {
    for (const f of readdirSync(join(herlevDir, c)).sort().slice(0, perClass)) cpSync(join(herlevDir, c, f), join(root, c, f));
  }
  return root;
}

describe('a full disk during import', () => {
  it('stops with the disk-full message and what was committed; every committed image is whole', async () => {
    const data = classCopy(['normal_columnar', 'severe_dysplastic'], 30);
    const project = Project.open(join(tempDir(), 'full.cytotune'), { create: true });
    const pages = project.db.pragma('page_count', { simple: true }) as number;
    project.db.pragma(`max_page_count = ${pages + 12}`); // room for a few images, then SQLITE_FULL
    const err = (await importPaths(project, [data]).catch((e: unknown) => e)) as Error & { kind?: string };
    expect(err).toMatchObject({ kind: 'io' });
    expect(err.message).toMatch(/^The disk is full/);
    const committed = Number(/(\d+) of 60 files? (?:was|were) imported/.exec(err.message)?.[1]);
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(60);
    expect(project.images.countsByKind().image).toBe(committed);
    expect(project.annotations.liveCount()).toBe(committed);
    expect(project.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // With space again, the same import adds the rest and skips what is there.
    project.db.pragma('max_page_count = 1073741823');
    const again = await importPaths(project, [data]);
    expect(again).toMatchObject({ added: 60 - committed, duplicates: committed });
    project.close();
  });
});

describe('paths that are not files or folders', () => {
  it('a FIFO or a device among the paths is listed, and the other paths are imported', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'pipe.png');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const data = classCopy(['normal_columnar'], 3);
    // A FIFO inside a class folder too: never opened (opening it would block the import).
    const inner = join(data, 'normal_columnar', 'waiting.png');
    expect(spawnSync('mkfifo', [inner]).status).toBe(0);
    const project = Project.open(join(tempDir(), 'fifo.cytotune'), { create: true });
    const summary = await importPaths(project, [fifo, '/dev/null', data]);
    expect(summary.added).toBe(3);
    const reasons = Object.fromEntries(summary.unreadable.map((u) => [u.path, u.reason]));
    expect(reasons[fifo]).toMatch(/not a regular file or folder/);
    expect(reasons['/dev/null']).toMatch(/not a regular file or folder/);
    expect(reasons[inner]).toMatch(/not a regular file/);
    project.close();
  });
});

describe('symbolic links', () => {
  it('are followed as training follows them, listed in the summary, and loops end', async () => {
    const originals = classCopy(['normal_columnar', 'severe_dysplastic'], 4);
    const root = join(tempDir(), 'linked');
    mkdirSync(join(root, 'normal'), { recursive: true });
    // A class folder that is a link, and image files that are links (the README's HiCervix layout).
    symlinkSync(join(originals, 'severe_dysplastic'), join(root, 'severe'));
    for (const f of readdirSync(join(originals, 'normal_columnar'))) {
      symlinkSync(join(originals, 'normal_columnar', f), join(root, 'normal', f));
    }
    symlinkSync(root, join(root, 'normal', 'loop')); // a folder link back to the root
    symlinkSync(join(root, 'nowhere.png'), join(root, 'normal', 'dangling.png'));

    const project = Project.open(join(tempDir(), 'links.cytotune'), { create: true });
    const summary = await importPaths(project, [root]);
    const training = await scanImageFolder(root);
    expect(summary.added).toBe(training.items.length);
    expect(Object.fromEntries(project.classTree().map((c) => [c.name, c.totalCount]))).toEqual({ normal: 4, severe: 4 });
    expect(training.classNames).toEqual(['normal', 'severe']);
    expect(summary.links).toEqual(
      expect.arrayContaining([join(root, 'severe'), join(root, 'normal', readdirSync(join(root, 'normal'))[0])]),
    );
    expect(summary.unreadable).toEqual(
      expect.arrayContaining([
        { path: join(root, 'normal', 'dangling.png'), reason: expect.stringMatching(/broken symbolic link/) },
        { path: join(root, 'normal', 'loop'), reason: expect.stringMatching(/loop/) },
      ]),
    );
    project.close();
  });
});

describe('reasons and kinds', () => {
  it('a corrupt header is reported with a reason, not an empty one', async () => {
    const dir = tempDir();
    const good = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, 'cut.png'), good.subarray(0, 30));
    writeFileSync(join(dir, 'crc.png'), Buffer.concat([good.subarray(0, 29), Buffer.from([0, 0, 0, 0]), good.subarray(33)]));
    const project = Project.open(join(tempDir(), 'corrupt.cytotune'), { create: true });
    const summary = await importPaths(project, [dir]);
    expect(summary.unreadable).toHaveLength(2);
    for (const u of summary.unreadable) {
      expect(u.reason).not.toMatch(/:\s*$/);
      expect(u.reason).not.toMatch(/^Unknown error$/);
      expect(u.reason).toMatch(/PNG/);
    }
    project.close();
  });

  it('a tiled pyramidal TIFF named .tif is imported as a slide', async () => {
    const dir = tempDir();
    const tif = join(dir, 'scan.tif');
    await sharp({ create: { width: 1024, height: 768, channels: 3, background: '#d0a0c0' } })
      .tiff({ tile: true, pyramid: true, tileWidth: 256, tileHeight: 256, compression: 'jpeg' })
      .toFile(tif);
    const project = Project.open(join(tempDir(), 'tif.cytotune'), { create: true });
    const summary = await importPaths(project, [tif]);
    expect(summary.added).toBe(1);
    expect(project.images.countsByKind()).toEqual({ image: 0, slide: 1 });
    project.close();
  });
});
