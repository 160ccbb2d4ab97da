// A project: one SQLite file. Every user action is one transaction that also writes its
// audit entry, so the database and the log never disagree.
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import { ApiError } from '../../shared/api';
import { buildClassTree, classPalette, wouldCreateCycle } from '../../shared/classes';
import type { Annotation, ClassNode, ClassRecord, ModelInspection, ModelRecord, ProjectInfo, ProjectSettings } from '../../shared/domain';
import { openDatabase, schemaVersion, type Db } from '../db/database';
import { AnnotationsRepository } from '../db/repositories/annotations';
import { AuditRepository } from '../db/repositories/audit';
import { ClassesRepository } from '../db/repositories/classes';
import { ImagesRepository } from '../db/repositories/images';
import { ModelsRepository, RunsRepository } from '../db/repositories/runs';
import { SettingsRepository } from '../db/repositories/settings';
import { JobsRepository } from '../db/repositories/jobs';
import type { Box } from '../../shared/image';

export function currentActor(): string {
  try {
    return process.env.CYTOTUNE_USER || userInfo().username || 'user';
  } catch {
    return 'user';
  }
}

export class Project {
  readonly classes: ClassesRepository;
  readonly images: ImagesRepository;
  readonly annotations: AnnotationsRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly models: ModelsRepository;
  readonly runs: RunsRepository;
  readonly jobs: JobsRepository;

  private constructor(
    readonly path: string,
    readonly db: Db,
    readonly actor: string,
  ) {
    this.classes = new ClassesRepository(db);
    this.images = new ImagesRepository(db);
    this.annotations = new AnnotationsRepository(db);
    this.audit = new AuditRepository(db, actor);
    this.settings = new SettingsRepository(db);
    this.models = new ModelsRepository(db);
    this.runs = new RunsRepository(db);
    this.jobs = new JobsRepository(db);
  }

  static open(path: string, options: { create?: boolean; actor?: string } = {}): Project {
    return new Project(path, openDatabase(path, { create: options.create }), options.actor ?? currentActor());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` as one transaction (one user action). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  info(): ProjectInfo {
    return {
      path: this.path,
      name: basename(this.path).replace(/\.cytotune$/, ''),
      schemaVersion: schemaVersion(this.db),
      settings: this.settings.get(),
    };
  }

  updateSettings(patch: Partial<ProjectSettings>): ProjectInfo {
    this.transaction(() => {
      const before = this.settings.get();
      this.settings.set(patch);
      this.audit.record({ action: 'settings.update', entity: 'project', entityId: null, before, after: this.settings.get() });
    });
    return this.info();
  }

  // ---- classes ----

  classTree(): ClassNode[] {
    return buildClassTree(this.classes.all(), this.classes.labelCounts());
  }

  createClass(input: { name: string; parentId?: number | null; color?: string; shortcut?: string | null }): ClassRecord {
    return this.transaction(() => {
      const parentId = input.parentId ?? null;
      if (parentId !== null && !this.classes.get(parentId)) throw new ApiError('not-found', `No parent class with id ${parentId}.`);
      if (this.classes.findByName(input.name, parentId)) {
        throw new ApiError('conflict', `A class named "${input.name}" already exists at that level.`);
      }
      this.assertShortcutFree(input.shortcut ?? null, null);
      const count = this.classes.all().length;
      const created = this.classes.insert({
        parentId,
        name: input.name,
        color: input.color ?? classPalette[count % classPalette.length],
        shortcut: input.shortcut ?? null,
        position: this.classes.nextPosition(parentId),
      });
      this.audit.record({ action: 'class.create', entity: 'class', entityId: created.id, after: created });
      return created;
    });
  }

  updateClass(input: { id: number; name?: string; parentId?: number | null; color?: string; shortcut?: string | null }): ClassRecord {
    return this.transaction(() => {
      const before = this.requireClass(input.id);
      const next: ClassRecord = { ...before };
      if (input.parentId !== undefined && input.parentId !== before.parentId) {
        if (input.parentId !== null) {
          this.requireClass(input.parentId);
          if (wouldCreateCycle(this.classes.all(), before.id, input.parentId)) {
            throw new ApiError('invalid-input', `"${before.name}" cannot be nested inside itself or one of its subclasses.`);
          }
        }
        next.parentId = input.parentId;
        next.position = this.classes.nextPosition(input.parentId);
      }
      if (input.name !== undefined) next.name = input.name;
      if (input.color !== undefined) next.color = input.color;
      if (input.shortcut !== undefined) {
        this.assertShortcutFree(input.shortcut, before.id);
        next.shortcut = input.shortcut;
      }
      const clash = this.classes.findByName(next.name, next.parentId);
      if (clash && clash.id !== next.id) throw new ApiError('conflict', `A class named "${next.name}" already exists at that level.`);
      this.classes.update(next);
      this.audit.record({ action: 'class.update', entity: 'class', entityId: next.id, before, after: next });
      return next;
    });
  }

  /** Swaps a class with its previous or next sibling. */
  moveClass(id: number, direction: 'up' | 'down'): ClassNode[] {
    this.transaction(() => {
      const target = this.requireClass(id);
      const siblings = this.classes
        .all()
        .filter((c) => c.parentId === target.parentId)
        .sort((a, b) => a.position - b.position || a.id - b.id);
      const index = siblings.findIndex((c) => c.id === id);
      const otherIndex = direction === 'up' ? index - 1 : index + 1;
      if (otherIndex < 0 || otherIndex >= siblings.length) return;
      [siblings[index], siblings[otherIndex]] = [siblings[otherIndex], siblings[index]];
      siblings.forEach((c, position) => this.classes.update({ ...c, position }));
      this.audit.record({ action: 'class.move', entity: 'class', entityId: id, before: { index }, after: { index: otherIndex } });
    });
    return this.classTree();
  }

  deleteClass(id: number): void {
    this.transaction(() => {
      const before = this.requireClass(id);
      if (this.classes.all().some((c) => c.parentId === id)) {
        throw new ApiError('conflict', `"${before.name}" has subclasses; move or delete them first.`);
      }
      if (this.classes.isUsed(id)) {
        throw new ApiError('conflict', `"${before.name}" has labels or predictions; relabel them before deleting the class.`);
      }
      this.classes.delete(id);
      this.audit.record({ action: 'class.delete', entity: 'class', entityId: id, before });
    });
  }

  /** The class named `name` at the top level, created when missing (imports). */
  ensureTopLevelClass(name: string): { record: ClassRecord; created: boolean } {
    const existing = this.classes.findByName(name, null);
    if (existing) return { record: existing, created: false };
    return { record: this.createClass({ name }), created: true };
  }

  // ---- annotations ----

  createAnnotation(input: { imageId: number; classId: number; box: Box; source?: Annotation['source'] }): Annotation {
    return this.transaction(() => {
      this.requireImage(input.imageId);
      this.requireClass(input.classId);
      const created = this.annotations.insert({ ...input, source: input.source ?? 'manual', author: this.actor });
      this.audit.record({ action: 'annotation.create', entity: 'annotation', entityId: created.id, after: created });
      return created;
    });
  }

  updateAnnotation(input: { id: number; classId?: number; box?: Box }): Annotation {
    return this.transaction(() => {
      const before = this.requireAnnotation(input.id);
      if (input.classId !== undefined) this.requireClass(input.classId);
      const after = this.annotations.update(input.id, { classId: input.classId ?? before.classId, box: input.box ?? before.box });
      this.audit.record({ action: 'annotation.update', entity: 'annotation', entityId: input.id, before, after });
      return after;
    });
  }

  deleteAnnotation(id: number): void {
    this.transaction(() => {
      const before = this.requireAnnotation(id);
      this.annotations.softDelete(id);
      this.audit.record({ action: 'annotation.delete', entity: 'annotation', entityId: id, before });
    });
  }

  // ---- models and predictions ----

  addModel(m: ModelInspection): ModelRecord {
    return this.transaction(() => {
      const added = this.models.insert({
        path: m.path,
        sha256: m.sha256,
        family: m.family,
        config: { ...m.config, parameterCount: m.parameterCount, sizeBytes: m.sizeBytes },
      });
      this.audit.record({ action: 'model.add', entity: 'model', entityId: added.id, after: added });
      return added;
    });
  }

  /** A prediction becomes a label (source accepted-prediction), with its class or a correction. */
  acceptPrediction(predictionId: number, classId?: number): Annotation {
    const prediction = this.runs.getPrediction(predictionId);
    if (!prediction) throw new ApiError('not-found', `No prediction with id ${predictionId}.`);
    return this.createAnnotation({
      imageId: prediction.imageId,
      classId: classId ?? prediction.classId,
      box: prediction.box,
      source: 'accepted-prediction',
    });
  }

  // ---- lookups that fail with a user-facing reason ----

  requireClass(id: number): ClassRecord {
    const c = this.classes.get(id);
    if (!c) throw new ApiError('not-found', `No class with id ${id}.`);
    return c;
  }

  requireImage(id: number) {
    const img = this.images.get(id);
    if (!img) throw new ApiError('not-found', `No image with id ${id} in this project.`);
    return img;
  }

  private requireAnnotation(id: number): Annotation {
    const a = this.annotations.get(id);
    if (!a || a.deletedAt) throw new ApiError('not-found', `No label with id ${id}.`);
    return a;
  }

  private assertShortcutFree(shortcut: string | null, selfId: number | null): void {
    if (shortcut === null) return;
    const owner = this.classes.findByShortcut(shortcut);
    if (owner && owner.id !== selfId) throw new ApiError('conflict', `Key ${shortcut} already selects "${owner.name}".`);
  }
}
