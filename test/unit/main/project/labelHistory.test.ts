import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redoLabel, undoLabel } from '../../../../src/main/project/labelHistory';
import { Project } from '../../../../src/main/project/project';
import { tempDir } from '../../../support/paths';

function setup() {
  const path = join(tempDir(), 'undo.cytotune');
  const project = Project.open(path, { create: true, actor: 'ana' });
  const image = project.images.insert({ kind: 'slide', path: '/s.svs', sha256: 'x', width: 1000, height: 1000, mpp: 0.5 });
  const a = project.createClass({ name: 'A' });
  const b = project.createClass({ name: 'B' });
  return { path, project, image, a, b };
}

const live = (p: Project, imageId: number) => p.annotations.listForImage(imageId).map((x) => `${x.classId}@${x.box.x}`);

describe('labelling undo and redo through the audit log', () => {
  it('undoes and redoes create, update and delete in order, and survives reopening the project', () => {
    const { path, project, image, a, b } = setup();
    const box = (x: number) => ({ x, y: 0, w: 10, h: 10 });
    const first = project.createAnnotation({ imageId: image.id, classId: a.id, box: box(1) });
    project.createAnnotation({ imageId: image.id, classId: b.id, box: box(2) });
    project.updateAnnotation({ id: first.id, classId: b.id, box: box(3) });
    project.deleteAnnotation(first.id);
    expect(live(project, image.id)).toEqual([`${b.id}@2`]);

    expect(undoLabel(project, image.id)?.action).toBe('annotation.delete');
    expect(live(project, image.id)).toEqual([`${b.id}@3`, `${b.id}@2`]);
    expect(undoLabel(project, image.id)?.action).toBe('annotation.update');
    expect(live(project, image.id)).toEqual([`${a.id}@1`, `${b.id}@2`]);
    project.close();

    // The history is in the database: a reopened project redoes what was undone.
    const reopened = Project.open(path, { actor: 'ana' });
    expect(redoLabel(reopened, image.id)?.action).toBe('annotation.update');
    expect(live(reopened, image.id)).toEqual([`${b.id}@3`, `${b.id}@2`]);
    expect(undoLabel(reopened, image.id)?.action).toBe('annotation.update');
    expect(undoLabel(reopened, image.id)?.action).toBe('annotation.create');
    expect(undoLabel(reopened, image.id)?.action).toBe('annotation.create');
    expect(live(reopened, image.id)).toEqual([]);
    expect(undoLabel(reopened, image.id)).toBeNull();
    expect(redoLabel(reopened, image.id)?.action).toBe('annotation.create');
    expect(live(reopened, image.id)).toEqual([`${a.id}@1`]);

    // A new edit forgets the undone branch.
    reopened.createAnnotation({ imageId: image.id, classId: a.id, box: box(9) });
    expect(redoLabel(reopened, image.id)).toBeNull();
    const actions = reopened.audit.list(3).map((e) => e.action);
    expect(actions).toEqual(['annotation.create', 'annotation.redo', 'annotation.undo']);
    reopened.close();
  });

  it("keeps each user's history and each image's history apart", () => {
    const { path, project, image, a } = setup();
    const other = project.images.insert({ kind: 'image', path: '/o.png', sha256: 'y', width: 10, height: 10, mpp: null });
    project.createAnnotation({ imageId: image.id, classId: a.id, box: { x: 1, y: 1, w: 5, h: 5 } });
    project.createAnnotation({ imageId: other.id, classId: a.id, box: { x: 1, y: 1, w: 5, h: 5 } });
    project.close();
    const bob = Project.open(path, { actor: 'bob' });
    expect(undoLabel(bob, image.id)).toBeNull();
    bob.close();
    const ana = Project.open(path, { actor: 'ana' });
    undoLabel(ana, image.id);
    expect(ana.annotations.listForImage(image.id)).toHaveLength(0);
    expect(ana.annotations.listForImage(other.id)).toHaveLength(1);
    ana.close();
  });
});
