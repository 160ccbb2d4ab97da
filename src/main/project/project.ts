// A project: one SQLite file. Every user action is one transaction that also writes its
// audit entry, so the database and the log never disagree. One process at a time writes a
// project (projectLock.ts); another opens it read-only, and so does anyone who may not write
// the file or its folder. Opening also runs SQLite's quick_check and reports what it finds.
import { accessSync, constants, existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ApiError } from '../../shared/api';
import { buildClassTree, wouldCreateCycle } from '../../shared/classes';
import { nextClassColor } from './classColors';
import { acceptPrediction as acceptPredictionReviewed } from './predictionReview';
import type { Annotation, ClassNode, ClassRecord, ModelInspection, ModelRecord, ProjectInfo, ProjectSettings } from '../../shared/domain';
import { labelBoxProblem } from '../../shared/labelBounds';
import { nameKey, nameProblem, normaliseName } from '../../shared/names';
import { assertProjectFile, openDatabase, quickCheck, schemaVersion, type Db } from '../db/database';
import { asApiError } from '../db/storageErrors';
import { pidAlive, ProjectLock } from './projectLock';
import { TEMP_FILE } from '../../ml/adapters/safetensorsIo';
import { AnnotationsRepository } from '../db/repositories/annotations';
import { AuditRepository } from '../db/repositories/audit';
import { ClassesRepository } from '../db/repositories/classes';
import { ImagesRepository } from '../db/repositories/images';
import { ModelsRepository, RunsRepository } from '../db/repositories/runs';
import { SettingsRepository } from '../db/repositories/settings';
import { JobsRepository } from '../db/repositories/jobs';
import { CellsRepository } from '../db/repositories/cells';
import type { Box } from '../../shared/image';

export function currentActor(): string {
  try {
    return process.env.CYTOTUNE_USER || userInfo().username || 'user';
  } catch {
    return 'user';
  }
}

/**
 * The user a lab server is serving right now (one per connection, from their token): every
 * label and audit entry written while `asUser(name, fn)` runs is theirs. A local project has
 * one user, the one who opened it.
 */
const actingUser = new AsyncLocalStorage<string>();
export const asUser = <T>(name: string, fn: () => T): T => actingUser.run(name, fn);

/**
 * How a project is opened: 'write' takes the project lock or fails naming its holder; 'read'
 * never writes; 'auto' writes when it can and otherwise opens read-only and says why.
 */
export type ProjectAccess = 'write' | 'read' | 'auto';

function canWrite(path: string): boolean {
  try {
    if (existsSync(path)) accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
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
  readonly cells: CellsRepository;

  private constructor(
    readonly path: string,
    readonly db: Db,
    private readonly owner: string,
    /** Why this project cannot be changed here, or null when it can. */
    readonly readOnlyReason: string | null,
    /** What a user should know about this file (read-only, damaged, labels outside their image). */
    readonly warnings: string[],
    private readonly lock: ProjectLock | null,
  ) {
    this.classes = new ClassesRepository(db);
    this.images = new ImagesRepository(db);
    this.annotations = new AnnotationsRepository(db);
    this.audit = new AuditRepository(db, () => this.actor);
    this.settings = new SettingsRepository(db);
    this.models = new ModelsRepository(db);
    this.runs = new RunsRepository(db);
    this.jobs = new JobsRepository(db);
    this.cells = new CellsRepository(db);
  }

  static open(path: string, options: { create?: boolean; actor?: string; access?: ProjectAccess } = {}): Project {
    const access = options.access ?? 'write';
    const exists = existsSync(path);
    if (!exists && !options.create) {
      throw new ApiError('not-found', `No project file at ${path}. Create a project first (cytotune init --project ${path}).`);
    }
    if (exists) assertProjectFile(path); // before any lock or journal file appears beside it
    let readOnlyReason: string | null = access === 'read' ? 'This project is open read-only: nothing was changed.' : null;
    let lock: ProjectLock | null = null;
    if (access !== 'read') {
      if (!canWrite(path)) {
        if (access === 'write' || !exists) {
          throw new ApiError('io', `${path} is read-only: CytoTune may not write it or its folder, so nothing can be changed.`);
        }
        readOnlyReason = `Read-only: CytoTune may not write ${path} or its folder; changes cannot be saved.`;
      } else {
        const attempt = ProjectLock.acquire(path);
        if (attempt.ok) lock = attempt.lock;
        else if (attempt.reason === 'unwritable' && access === 'auto' && exists) {
          readOnlyReason = `Read-only: ${attempt.message}; changes cannot be saved.`;
        } else if (attempt.reason === 'unwritable') {
          throw new ApiError('io', `${path} is read-only: ${attempt.message}.`);
        } else if (access === 'write' || !exists) {
          throw new ApiError('conflict', `${path} is open in CytoTune (${attempt.message}). Close it there first.`);
        } else {
          readOnlyReason = `This project is read-only here: it is open in CytoTune (${attempt.message}). Close it there to change it here.`;
        }
      }
    }
    let db: Db;
    try {
      db = openDatabase(path, { create: options.create, readOnly: readOnlyReason !== null });
    } catch (err) {
      lock?.release();
      throw err;
    }
    const warnings = readOnlyReason && access !== 'read' ? [readOnlyReason] : [];
    const problem = quickCheck(db);
    if (problem) warnings.push(`This project file is damaged (${problem}). Export what you can and restore a backup.`);
    if (lock) removeDebris(path);
    const project = new Project(path, db, options.actor ?? currentActor(), readOnlyReason, warnings, lock);
    if (!problem) project.reportLabelsOutsideImages();
    return project;
  }

  /**
   * A project on a lab (PostgreSQL) server: schema `schema` of the lab database, migrated like a
   * file. `path` names it for the renderer (the lab's data folder, where its run files live).
   */
  static openLab(path: string, db: Db, options: { actor?: string } = {}): Project {
    return new Project(path, db, options.actor ?? currentActor(), null, [], null);
  }

  /** Who is acting: the lab user of this request, else the project's user. */
  get actor(): string {
    return actingUser.getStore() ?? this.owner;
  }

  get readOnly(): boolean {
    return this.readOnlyReason !== null;
  }

  /** Labels written before boxes were bounded (migration 6) whose box breaks the rule: reported, never dropped. */
  private reportLabelsOutsideImages(): void {
    const bad = this.annotations.outOfBounds();
    if (bad.length === 0) return;
    const ids = bad.slice(0, 10).map((a) => a.id);
    this.warnings.push(
      `${bad.length} label${bad.length === 1 ? ' has a box' : 's have boxes'} outside ${bad.length === 1 ? 'its image' : 'their images'} ` +
        `(label ${ids.join(', ')}${bad.length > ids.length ? ', ...' : ''}): move or delete ${bad.length === 1 ? 'it' : 'them'}; training refuses ${bad.length === 1 ? 'it' : 'them'}.`,
    );
  }

  close(): void {
    if (this.db.open) {
      if (!this.readOnly) {
        try {
          // A project closed cleanly carries no WAL journal, so a copy opens from read-only media.
          this.db.pragma('journal_mode = DELETE');
        } catch {
          /* another connection is reading it: it stays in WAL mode */
        }
      }
      this.db.close();
    }
    this.lock?.release();
  }

  /**
   * Runs `fn` as one transaction (one user action), taking the write lock at BEGIN (IMMEDIATE)
   * so it never fails half-way with SQLITE_BUSY_SNAPSHOT. A full disk, a busy or read-only file
   * become ApiErrors with a message to act on; nothing of the action is committed.
   */
  transaction<T>(fn: () => T): T {
    if (this.readOnlyReason) throw new ApiError('conflict', this.readOnlyReason);
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw asApiError(err, this.readOnlyReason ?? undefined);
    }
  }

  info(): ProjectInfo {
    return {
      path: this.path,
      name: basename(this.path).replace(/\.cytotune$/, ''),
      schemaVersion: schemaVersion(this.db),
      settings: this.settings.get(),
      readOnly: this.readOnly,
      warnings: [...this.warnings],
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
      const name = checkedName(input.name);
      if (parentId !== null && !this.classes.get(parentId)) throw new ApiError('not-found', `No parent class with id ${parentId}.`);
      const twin = this.sibling(name, parentId);
      if (twin) throw new ApiError('conflict', `A class named "${twin.name}" already exists at that level.`);
      this.assertShortcutFree(input.shortcut ?? null, null);
      const created = this.classes.insert({
        parentId,
        name,
        color: input.color ?? nextClassColor(this.classes.all().map((c) => c.color)),
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
      if (input.name !== undefined) next.name = checkedName(input.name);
      if (input.color !== undefined) next.color = input.color;
      if (input.shortcut !== undefined) {
        this.assertShortcutFree(input.shortcut, before.id);
        next.shortcut = input.shortcut;
      }
      const clash = this.sibling(next.name, next.parentId, next.id);
      if (clash) throw new ApiError('conflict', `A class named "${clash.name}" already exists at that level.`);
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
      const usage = this.classes.usage(id);
      if (usage.liveLabels > 0) {
        throw new ApiError(
          'conflict',
          `"${before.name}" has ${usage.liveLabels} label(s); relabel or delete them before deleting the class.`,
        );
      }
      if (usage.predictions > 0) {
        throw new ApiError(
          'conflict',
          `"${before.name}" is a class of trained runs with ${usage.predictions} prediction(s); it cannot be deleted.`,
        );
      }
      // Labels that were deleted or undone stay as history in the audit log; their rows go with the class.
      const purged = this.annotations.purgeDeletedOfClass(id);
      this.classes.delete(id);
      this.audit.record({ action: 'class.delete', entity: 'class', entityId: id, before, after: { purgedDeletedLabels: purged } });
    });
  }

  /** The class named `name` (or its case/width twin) at the top level, created when missing (imports). */
  ensureTopLevelClass(name: string): { record: ClassRecord; created: boolean } {
    const existing = this.sibling(checkedName(name), null);
    if (existing) return { record: existing, created: false };
    return { record: this.createClass({ name }), created: true };
  }

  /** A class at that level whose name is `name` but for case and width, other than `selfId`. */
  private sibling(name: string, parentId: number | null, selfId?: number): ClassRecord | undefined {
    const key = nameKey(name);
    return this.classes.all().find((c) => c.parentId === parentId && c.id !== selfId && nameKey(c.name) === key);
  }

  // ---- annotations ----

  createAnnotation(input: { imageId: number; classId: number; box: Box; source?: Annotation['source'] }): Annotation {
    return this.transaction(() => {
      assertBoxFits(input.box, this.requireImage(input.imageId));
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
      if (input.box !== undefined) assertBoxFits(input.box, this.requireImage(before.imageId));
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
    // One path for every caller: the review decision is recorded and a second accept relabels.
    return acceptPredictionReviewed(this, predictionId, classId);
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

/**
 * Partial files a killed CytoTune left (a run file's `.tmp-<pid>-<hex>` before its rename, a lock
 * being written): removed when the project opens, with its lock held, so nobody else is writing them.
 */
function removeDebris(projectPath: string): void {
  const sweep = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory() && depth > 0) sweep(full, depth - 1);
      else if (e.isFile() && TEMP_FILE.test(e.name)) rmSync(full, { force: true });
    }
  };
  sweep(projectPath.replace(/\.cytotune$/, '') + '.runs', 3);
  const lockDebris = new RegExp(`^${escapeRegExp(basename(projectPath))}\\.lock\\.(new|stale|beat)-(\\d+)`);
  for (const name of readdirSync(dirname(projectPath))) {
    const m = lockDebris.exec(name);
    if (m && !pidAlive(Number(m[2]))) rmSync(join(dirname(projectPath), name), { force: true });
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function checkedName(raw: string): string {
  const name = normaliseName(raw);
  const problem = nameProblem(name);
  if (problem) throw new ApiError('invalid-input', `Class name refused: ${problem}.`);
  return name;
}

function assertBoxFits(box: Box, image: { id: number; kind: 'slide' | 'image'; width: number; height: number }): void {
  const problem = labelBoxProblem(box, image);
  if (problem) throw new ApiError('invalid-input', `Label refused on image ${image.id}: ${problem}.`);
}
