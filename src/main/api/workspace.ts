// The application core behind the API contract: holds the open project, implements every
// channel, validates every input at the boundary and turns failures into typed errors.
// Both adapters (Electron IPC, HTTP/WebSocket) and the in-process tests call `handle`.
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { homedir } from 'node:os';
import { EventEmitter } from 'node:events';
import {
  api,
  ApiError,
  isChannel,
  type ApiResult,
  type Channel,
  type EventName,
  type Events,
  type Input,
  type Output,
} from '../../shared/api';
import { importPaths } from '../import/importer';
import { redoLabel, undoLabel } from '../project/labelHistory';
import { asUser, Project } from '../project/project';
import type { Lab } from '../lab/lab';
import { LabJobQueue } from '../lab/labJobs';
import type { JobEvent } from '../jobs/jobManager';
import { ComputeService } from '../jobs/computeService';
import { inspectModel } from '../jobs/modelRegistry';
import { planTraining } from '../jobs/trainingPlan';
import { estimateTraining } from '../jobs/trainingEstimate';
import { acceptPrediction, imageResults, predictionsWithReviews, reviewQueue, skipPrediction } from '../project/predictionReview';
import { imageQuery } from '../project/imageQuery';
import { exportLabels } from '../export/exportLabels';
import type { WorkerSpawner } from '../jobs/workerProcess';
import { asApiError } from '../db/storageErrors';
import { caseList, gallery, reviewSlide } from '../project/cellReview';
import { detectionPresets, previewCells } from '../project/cellPreview';

type Handlers = { [C in Channel]: (input: Input<C>) => Promise<Output<C>> | Output<C> };

export class Workspace {
  private project: Project | null = null;
  private compute: ComputeService | null = null;
  private readonly events = new EventEmitter();
  private readonly handlers: Handlers;

  private readonly spawnWorker?: WorkerSpawner;
  /** A lab server's workspace: projects are schemas of the lab's PostgreSQL database, not files. */
  readonly lab: Lab | null;

  constructor(options: { projectPath?: string; spawnWorker?: WorkerSpawner; lab?: Lab } = {}) {
    this.spawnWorker = options.spawnWorker;
    this.lab = options.lab ?? null;
    if (options.projectPath && this.lab) {
      const name = labProjectName(options.projectPath);
      this.project = this.lab.openProject(name, { create: !this.lab.projects().includes(name) });
    } else if (options.projectPath) this.project = Project.open(options.projectPath, { create: true, access: 'auto' });
    this.handlers = this.createHandlers();
  }

  /** Training and classification of the open project (the worker starts on first use). */
  requireCompute(): ComputeService {
    const project = this.requireProject();
    // A read-only instance never trains, resumes or cancels: the runs belong to the instance that writes.
    if (project.readOnlyReason) throw new ApiError('conflict', project.readOnlyReason);
    if (!this.compute) {
      const lab = this.lab;
      // A lab project's jobs go to the lab's queue; its GPU workers run them (lab/labWorker.ts).
      const queue = lab ? (emit: (e: JobEvent) => void) => new LabJobQueue(project, project.info().name, lab.url, emit) : undefined;
      this.compute = new ComputeService(project, (p) => this.emit('job:progress', p), this.spawnWorker, queue);
    }
    return this.compute;
  }

  /** The open project, or a 'no-project' error a user can act on. */
  requireProject(): Project {
    if (!this.project) throw new ApiError('no-project', 'No project is open. Create or open a project first.');
    return this.project;
  }

  get currentProject(): Project | null {
    return this.project;
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  onAny(listener: (event: EventName, payload: unknown) => void): () => void {
    const names: EventName[] = ['import:progress', 'job:progress', 'project:changed'];
    const offs = names.map((n) => this.on(n, (p) => listener(n, p)));
    return () => offs.forEach((off) => off());
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    this.events.emit(event, payload);
  }

  /**
   * Validates and runs one call. Never throws: failures are values with a kind. On a lab server
   * `user` is who sent it (their token): what it writes is theirs in the audit log.
   */
  async handle(channel: unknown, rawInput: unknown, user?: string): Promise<ApiResult<unknown>> {
    return user === undefined ? this.dispatch(channel, rawInput) : asUser(user, () => this.dispatch(channel, rawInput));
  }

  private async dispatch(channel: unknown, rawInput: unknown): Promise<ApiResult<unknown>> {
    if (!isChannel(channel)) {
      return { ok: false, error: { kind: 'invalid-input', message: `Unknown API channel ${JSON.stringify(channel)}.` } };
    }
    const parsed = api[channel].input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length ? issue.path.join('.') + ': ' : '';
      return { ok: false, error: { kind: 'invalid-input', message: `${channel}: ${where}${issue.message}` } };
    }
    try {
      const handler = this.handlers[channel] as (input: unknown) => unknown;
      return { ok: true, value: (await handler(parsed.data)) ?? null };
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, error: err.toValue() };
      const message = (err as Error)?.message ?? String(err);
      // SQLite's and PostgreSQL's (23505) unique violations: two rows that may not both exist.
      if (/UNIQUE constraint/.test(message) || (err as { code?: string }).code === '23505') {
        return { ok: false, error: { kind: 'conflict', message } };
      }
      const storage = asApiError(err, this.project?.readOnlyReason ?? undefined);
      if (storage instanceof ApiError) return { ok: false, error: storage.toValue() };
      console.error(`[cytotune] ${channel} failed:`, err);
      return { ok: false, error: { kind: 'internal', message } };
    }
  }

  close(): void {
    this.compute?.dispose();
    this.compute = null;
    this.project?.close();
    this.project = null;
  }

  private openProject(path: string, create: boolean) {
    if (this.lab) {
      const next = this.lab.openProject(labProjectName(path), { create });
      this.close();
      this.project = next;
      this.emit('project:changed', { reason: create ? 'created' : 'opened' });
      return next.info();
    }
    const full = resolve(path.endsWith('.cytotune') ? path : `${path}.cytotune`);
    if (create && existsSync(full)) throw new ApiError('conflict', `${full} already exists; open it instead.`);
    if (create && !existsSync(dirname(full))) throw new ApiError('not-found', `Folder ${dirname(full)} does not exist.`);
    const next = Project.open(full, { create, access: 'auto' });
    this.close();
    this.project = next;
    this.emit('project:changed', { reason: create ? 'created' : 'opened' });
    return next.info();
  }

  private createHandlers(): Handlers {
    const p = () => this.requireProject();
    return {
      'project:create': ({ path }) => this.openProject(path, true),
      'project:open': ({ path }) => this.openProject(path, false),
      'project:current': () => this.project?.info() ?? null,
      'project:close': () => {
        this.close();
        return null;
      },
      'project:updateSettings': (patch) => p().updateSettings(patch),
      'project:info': () => ({
        classes: p().classTree(),
        counts: { images: p().images.countsByKind(), annotations: p().annotations.liveCount() },
      }),

      'classes:list': () => p().classTree(),
      'classes:create': (input) => p().createClass(input),
      'classes:update': (input) => p().updateClass(input),
      'classes:move': ({ id, direction }) => p().moveClass(id, direction),
      'classes:delete': ({ id }) => {
        p().deleteClass(id);
        return null;
      },

      'images:list': ({ offset, limit, ...filter }) => p().images.list(offset, limit, imageQuery(p(), filter)),
      'images:count': (filter) => ({ matching: p().images.count(imageQuery(p(), filter)), total: p().images.count() }),
      'images:get': ({ id }) => p().requireImage(id),

      'import:run': ({ paths }) => importPaths(p(), paths, (progress) => this.emit('import:progress', progress)),
      'fs:list': ({ path }) => listDirectory(path ?? homedir()),

      'annotations:list': ({ imageId }) => p().annotations.listForImage(p().requireImage(imageId).id),
      'annotations:get': ({ id }) => {
        const a = p().annotations.get(id);
        if (!a || a.deletedAt) throw new ApiError('not-found', `No label with id ${id}.`);
        return a;
      },
      'annotations:create': (input) => p().createAnnotation(input),
      'annotations:update': (input) => p().updateAnnotation(input),
      'annotations:delete': ({ id }) => {
        p().deleteAnnotation(id);
        return null;
      },

      'annotations:byClass': ({ classId, limit }) => p().annotations.listForClass(p().requireClass(classId).id, limit ?? 60),
      'annotations:undo': ({ imageId }) => undoLabel(p(), p().requireImage(imageId).id),
      'annotations:redo': ({ imageId }) => redoLabel(p(), p().requireImage(imageId).id),

      'models:list': () => p().models.list(),
      'models:inspect': ({ path }) => inspectModel(path),
      'models:add': async ({ path }) => {
        const found = await inspectModel(resolve(path));
        const existing = p()
          .models.list()
          .find((m) => m.sha256 === found.sha256);
        if (existing) throw new ApiError('conflict', `This checkpoint is already added (model ${existing.id}, ${existing.path}).`);
        return p().addModel(found);
      },
      'training:plan': ({ classIds, seed }) => planTraining(p(), classIds, seed ?? 1).classes,
      'runs:start': (input) => this.requireCompute().startTraining(input),
      'training:estimate': (input) => estimateTraining(p(), input),
      'training:measureSpeed': (input) => {
        const job = this.requireCompute().measureSpeed(input);
        if (!job) return null;
        const { spec: _spec, ...summary } = job;
        return summary;
      },
      'runs:cancel': ({ runId }) => (this.requireCompute().cancelRun(runId), null),
      'runs:resume': ({ runId }) => (this.requireCompute().resumeTraining(runId), null),
      'runs:get': ({ runId }) => {
        const run = p().runs.get(runId);
        if (!run) throw new ApiError('not-found', `No run with id ${runId}.`);
        return run;
      },
      'jobs:list': () => {
        const numbers = p().jobs.numbers();
        return (p().readOnly ? p().jobs.list() : this.requireCompute().jobs.list()).map(({ spec: _spec, ...job }) => ({
          ...job,
          number: numbers.get(job.id),
        }));
      },
      'jobs:cancel': ({ id }) => {
        if (!this.requireCompute().jobs.cancel(id)) throw new ApiError('conflict', `Job ${id} is not queued or running.`);
        return null;
      },
      'classify:start': ({ runId, imageIds, patchSize, stride }) => {
        const { spec: _spec, ...job } = this.requireCompute().startClassification(runId, imageIds, patchSize, stride);
        return job;
      },
      'cells:detect': (input) => this.requireCompute().startDetection(input),
      'cells:presets': () => detectionPresets(),
      'cells:preview': (input) => previewCells(p(), input),
      'cells:runs': ({ imageId }) => p().cells.runsForImage(p().requireImage(imageId).id),
      'cells:list': ({ imageId, detectionRunId, region, limit }) => {
        const image = p().requireImage(imageId);
        const run = detectionRunId ? p().cells.run(detectionRunId) : p().cells.latestCompleted(image.id);
        if (!run || run.imageId !== image.id) return [];
        return p().cells.cells(run.id, region, limit);
      },
      'cells:classify': ({ runId, imageIds }) => {
        const ids =
          imageIds === 'all-slides'
            ? p()
                .images.list(0, 1_000_000)
                .filter((i) => i.kind === 'slide')
                .map((i) => i.id)
            : imageIds;
        if (ids.length === 0) throw new ApiError('invalid-input', 'This project has no slides to classify.');
        const { spec: _spec, ...job } = this.requireCompute().startClassification(runId, ids, undefined, undefined, 'cells');
        return job;
      },
      'cells:gallery': ({ runId, imageId, classIds, limit }) => gallery(p(), runId, imageId, classIds, limit),
      'cases:list': ({ runId, classIds, threshold }) => caseList(p(), runId, classIds, threshold),
      'cases:review': ({ imageId, status, note }) => (reviewSlide(p(), imageId, status, note), null),
      'experiments:start': (input) => {
        const { spec: _spec, ...job } = this.requireCompute().startExperiment(input);
        return job;
      },
      'experiments:summary': async ({ id }) => {
        const job = p().jobs.get(id);
        const result = job?.kind === 'experiment' ? job.result : null;
        if (!result?.summary) throw new ApiError('not-found', `Experiment ${id} has no results yet.`);
        return { markdown: await readFile(result.summary, 'utf8'), figures: result.figures };
      },
      'predictions:review': ({ runId, imageId, limit }) => reviewQueue(p(), runId, limit ?? 50, imageId),
      'predictions:accept': ({ predictionId, classId }) => acceptPrediction(p(), predictionId, classId),
      'predictions:skip': ({ predictionId }) => skipPrediction(p(), predictionId),
      'predictions:runs': ({ imageId }) => imageResults(p(), p().requireImage(imageId).id),
      'runs:list': () => p().runs.list(),
      'runs:metrics': ({ runId }) => p().runs.metrics(runId),
      'predictions:list': ({ runId, imageId }) => predictionsWithReviews(p(), runId, imageId),
      'audit:list': ({ limit }) => p().audit.list(limit),
      'export:labels': ({ format, imageId, runId }) => exportLabels(p(), format, imageId, runId),
      'runs:exportAdapter': async ({ runId, path, overwrite }) => {
        const compute = this.requireCompute();
        return compute.exportAdapter(runId, path === undefined ? undefined : await adapterTarget(path, overwrite ?? false));
      },
      'runs:importAdapter': ({ path }) => this.requireCompute().importAdapter(path),
    };
  }
}

/** A lab project is named by the file name a workstation would give it (`study.cytotune` -> study). */
function labProjectName(path: string): string {
  const name = basename(path).replace(/\.cytotune$/, '');
  if (!/^[\p{L}\p{N} ._-]{1,100}$/u.test(name))
    throw new ApiError('invalid-input', `A lab project name is 1-100 letters, digits, spaces, ".", "_" or "-".`);
  return name;
}

const ADAPTER_EXTENSION = '.cytotune-adapter';

/**
 * Where an adapter may be exported: a file named *.cytotune-adapter in a folder that exists,
 * never over an existing file unless asked (and never over anything but a regular file).
 */
async function adapterTarget(path: string, overwrite: boolean): Promise<string> {
  const full = resolve(path);
  if (!full.endsWith(ADAPTER_EXTENSION)) {
    throw new ApiError(
      'invalid-input',
      `An adapter file is named *${ADAPTER_EXTENSION}; choose a name like ${basename(full)}${ADAPTER_EXTENSION}.`,
    );
  }
  const folder = await stat(dirname(full)).catch(() => null);
  if (!folder?.isDirectory()) throw new ApiError('not-found', `Folder ${dirname(full)} does not exist; choose an existing folder.`);
  const existing = await lstat(full).catch(() => null);
  if (existing && !existing.isFile()) throw new ApiError('conflict', `${full} exists and is not a regular file; choose another name.`);
  if (existing && !overwrite) throw new ApiError('conflict', `${full} already exists; choose another name or confirm replacing it.`);
  return full;
}

/** The server-side folder picker of browser mode: folders and image files of one directory. */
async function listDirectory(path: string) {
  const dir = resolve(path);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    throw new ApiError('not-found', `Cannot read folder ${dir}.`);
  }
  return {
    path: dir,
    parent: dirname(dir) === dir ? null : dirname(dir),
    entries: entries
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isFile()))
      .map((e) => ({ name: e.name, kind: e.isDirectory() ? ('dir' as const) : ('file' as const) }))
      .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1)),
  };
}
