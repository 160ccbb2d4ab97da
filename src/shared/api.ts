// The one API contract. Main implements it (validating every input with these schemas),
// Electron's preload and the browser-mode server carry it, and the renderer's client is
// typed from it, so the UI cannot tell which adapter it talks to.
import { z } from 'zod';
import type {
  Annotation,
  AuditEntry,
  ClassNode,
  ClassRecord,
  ImageRecord,
  ImageSummary,
  ImportSummary,
  JobSummary,
  ModelInspection,
  ModelRecord,
  ImageResults,
  PlanClass,
  Prediction,
  PredictionReview,
  ProjectCounts,
  ProjectInfo,
  RunMetric,
  RunRecord,
  RunStatus,
  TrainingEstimate,
} from './domain';
import type { JobKind, WorkerProgress } from './jobs';
import type { CaseSummary, CellPreview, CellRecord, DetectionPresetInfo, DetectionRun, ScoredCell } from './cells';
import { NAME_MAX_LENGTH, nameProblem, normaliseName } from './names';

const id = z.number().int().positive();
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #1f77b4');
const shortcut = z
  .string()
  .regex(/^[0-9]$/, 'a single digit key 0-9')
  .nullable();
// Level-0 pixels. These bounds only keep absurd numbers out; the project checks a box against
// its image (src/shared/labelBounds.ts), and so does the database.
const coordinate = z.number().finite().min(-1e9).max(1e9);
const side = z.number().finite().min(1, 'a label is at least 1 x 1 px').max(1e6);
const box = z.object({ x: coordinate, y: coordinate, w: side, h: side });
const filePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL');
/** Stored in NFC; refused with controls, bidi overrides or zero-width characters (src/shared/names.ts). */
const name = z
  .string()
  .max(NAME_MAX_LENGTH * 4)
  .transform(normaliseName)
  .superRefine((value, ctx) => {
    const problem = nameProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const empty = z.object({}).strict();

/** Defines one channel: `channel<Output>()(inputSchema)`; the output is a phantom type. */
function channel<O>() {
  return <I extends z.ZodType>(input: I) => ({ input, output: undefined as unknown as O });
}
const byId = z.object({ id }).strict();

/** What an undo or redo changed: the label as it is now, and the kind of action reversed or re-applied. */
export type HistoryStep = { annotation: Annotation; action: string } | null;

export interface ExportedFile {
  filename: string;
  mimeType: string;
  text: string;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: { name: string; kind: 'dir' | 'file' }[];
}

const createProject = z.object({ path: filePath, name: name.optional() }).strict();
const settingsInput = z
  .object({ patchSize: z.number().int().min(8).max(4096).optional(), shotTarget: z.number().int().min(1).max(10_000).optional() })
  .strict();
const createClass = z
  .object({
    name,
    parentId: id.nullable().optional(),
    color: color.optional(),
    shortcut: shortcut.optional(),
  })
  .strict();
const updateClass = z
  .object({
    id,
    name: name.optional(),
    parentId: id.nullable().optional(),
    color: color.optional(),
    shortcut: shortcut.optional(),
  })
  .strict();
const moveClass = z.object({ id, direction: z.enum(['up', 'down']) }).strict();
const imageFilter = {
  classId: id.optional(),
  kind: z.enum(['slide', 'image']).optional(),
  labelled: z.enum(['labelled', 'unlabelled']).optional(),
  name: z.string().max(200).optional(),
};
const listImages = z
  .object({ offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(5000).optional(), ...imageFilter })
  .strict();
const importRun = z.object({ paths: z.array(filePath).min(1).max(10_000) }).strict();
const fsList = z.object({ path: filePath.optional() }).strict();
const createAnnotation = z.object({ imageId: id, classId: id, box }).strict();
const updateAnnotation = z.object({ id, classId: id.optional(), box: box.optional() }).strict();
const listPredictions = z.object({ runId: id, imageId: id.optional() }).strict();
const trainingSettings = z
  .object({
    lr: z.number().positive().max(1).optional(),
    steps: z.number().int().min(1).max(1_000_000).optional(),
    batchSize: z.number().int().min(1).max(1024).optional(),
    microBatchSize: z.number().int().min(1).max(1024).optional(),
    epochs: z.number().int().min(1).max(10_000).optional(),
    rank: z.number().int().min(1).max(256).optional(),
    alpha: z.number().positive().optional(),
    targets: z
      .array(z.enum(['q', 'k', 'v', 'o']))
      .min(1)
      .optional(),
  })
  .strict();
const startRun = z
  .object({
    modelId: id,
    method: z.enum(['lora', 'linear']),
    classIds: z.array(id).min(2).max(1000),
    seed: z.number().int().min(0).optional(),
    settings: trainingSettings.optional(),
  })
  .strict();
const byRun = z.object({ runId: id }).strict();
const startClassify = z
  .object({
    runId: id,
    imageIds: z.array(id).min(1).max(100_000),
    patchSize: z.number().int().min(8).max(4096).optional(),
    stride: z.number().int().min(1).max(4096).optional(),
  })
  .strict();
const numbers = (min: number, max: number) => z.array(z.number().min(min).max(max)).min(1).max(50);
const startExperiment = z
  .object({
    dataDir: filePath,
    modelIds: z.array(id).min(1).max(20),
    methods: z.array(z.enum(['lora', 'linear'])).min(1),
    shots: z.array(z.number().int().min(1).max(10_000)).max(50),
    seeds: z.array(z.number().int().min(0)).min(1).max(50),
    lrs: numbers(1e-8, 1),
    percents: z.array(z.number().min(1).max(100)).max(50).optional(),
    budgetMinutes: z.number().positive().optional(),
    iters: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();
const listAudit = z.object({ limit: z.number().int().min(1).max(10_000).optional() }).strict();

const umRange = z.object({ min: z.number().positive().max(500), max: z.number().positive().max(500) }).strict();
const detectCells = z
  .object({
    imageId: id,
    preset: z.enum(['pap-lbc', 'he-histology']).optional(),
    params: z
      .object({ nucleusDiameterUm: umRange.optional(), minContrastOd: z.number().positive().max(10).optional() })
      .strict()
      .optional(),
    level: z.number().int().min(0).max(30).optional(),
  })
  .strict();
const previewCells = z
  .object({
    imageId: id,
    region: box,
    preset: detectCells.shape.preset,
    params: detectCells.shape.params,
    level: detectCells.shape.level,
  })
  .strict();
const listCells = z
  .object({ imageId: id, detectionRunId: id.optional(), region: box.optional(), limit: z.number().int().min(1).max(200_000).optional() })
  .strict();
const classifyCells = z.object({ runId: id, imageIds: z.union([z.array(id).min(1).max(100_000), z.literal('all-slides')]) }).strict();
const scoreBy = z.array(id).min(1).max(1000);
const cellGallery = z.object({ runId: id, imageId: id, classIds: scoreBy, limit: z.number().int().min(1).max(1000).optional() }).strict();
const caseList = z.object({ runId: id, classIds: scoreBy, threshold: z.number().min(0).max(1).optional() }).strict();
const reviewCase = z
  .object({ imageId: id, status: z.enum(['not-classified', 'classified', 'reviewed']), note: z.string().max(10_000) })
  .strict();

export const api = {
  'project:create': channel<ProjectInfo>()(createProject),
  'project:open': channel<ProjectInfo>()(z.object({ path: filePath }).strict()),
  'project:current': channel<ProjectInfo | null>()(empty),
  'project:close': channel<null>()(empty),
  'project:updateSettings': channel<ProjectInfo>()(settingsInput),
  'project:info': channel<{ classes: ClassNode[]; counts: ProjectCounts }>()(empty),

  'classes:list': channel<ClassNode[]>()(empty),
  'classes:create': channel<ClassRecord>()(createClass),
  'classes:update': channel<ClassRecord>()(updateClass),
  'classes:move': channel<ClassNode[]>()(moveClass),
  'classes:delete': channel<null>()(byId),

  'images:list': channel<ImageSummary[]>()(listImages),
  'images:get': channel<ImageRecord>()(byId),

  'import:run': channel<ImportSummary>()(importRun),
  'fs:list': channel<DirectoryListing>()(fsList),

  'annotations:list': channel<Annotation[]>()(z.object({ imageId: id }).strict()),
  'annotations:get': channel<Annotation>()(byId),
  'annotations:create': channel<Annotation>()(createAnnotation),
  'annotations:update': channel<Annotation>()(updateAnnotation),
  'images:count': channel<{ matching: number; total: number }>()(z.object(imageFilter).strict()),
  'annotations:delete': channel<null>()(byId),
  'annotations:byClass': channel<Annotation[]>()(z.object({ classId: id, limit: z.number().int().min(1).max(1000).optional() }).strict()),
  'annotations:undo': channel<HistoryStep>()(z.object({ imageId: id }).strict()),
  'annotations:redo': channel<HistoryStep>()(z.object({ imageId: id }).strict()),

  'models:list': channel<ModelRecord[]>()(empty),
  'models:inspect': channel<ModelInspection>()(z.object({ path: filePath }).strict()),
  'models:add': channel<ModelRecord>()(z.object({ path: filePath }).strict()),
  'training:plan': channel<PlanClass[]>()(
    z.object({ classIds: z.array(id).min(2).max(1000), seed: z.number().int().min(0).optional() }).strict(),
  ),
  'runs:start': channel<RunRecord>()(startRun),
  'runs:cancel': channel<null>()(byRun),
  'runs:resume': channel<null>()(byRun),
  'runs:get': channel<RunRecord>()(byRun),
  'jobs:list': channel<JobSummary[]>()(empty),
  'jobs:cancel': channel<null>()(byId),
  'classify:start': channel<JobSummary>()(startClassify),
  'cells:detect': channel<DetectionRun>()(detectCells),
  'cells:presets': channel<DetectionPresetInfo[]>()(empty),
  'cells:preview': channel<CellPreview>()(previewCells),
  'cells:runs': channel<DetectionRun[]>()(z.object({ imageId: id }).strict()),
  'training:estimate': channel<TrainingEstimate>()(startRun),
  /** Times a few real steps of this run on this computer (a 'speed' job); null when measured already or busy. */
  'training:measureSpeed': channel<JobSummary | null>()(startRun),
  'cells:list': channel<CellRecord[]>()(listCells),
  'cells:classify': channel<JobSummary>()(classifyCells),
  'cells:gallery': channel<{ cells: ScoredCell[]; counts: { classId: number; count: number }[] }>()(cellGallery),
  'cases:list': channel<CaseSummary[]>()(caseList),
  'cases:review': channel<null>()(reviewCase),
  'experiments:start': channel<JobSummary>()(startExperiment),
  'experiments:summary': channel<{ markdown: string; figures: string[] }>()(byId),
  'predictions:review': channel<Prediction[]>()(
    z.object({ runId: id, imageId: id.optional(), limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  ),
  'predictions:accept': channel<Annotation>()(z.object({ predictionId: id, classId: id.optional() }).strict()),
  'runs:list': channel<RunRecord[]>()(empty),
  'runs:metrics': channel<RunMetric[]>()(z.object({ runId: id }).strict()),
  'predictions:list': channel<Prediction[]>()(listPredictions),
  'audit:list': channel<AuditEntry[]>()(listAudit),
  'export:labels': channel<ExportedFile>()(
    z.object({ format: z.enum(['csv', 'geojson']), imageId: id.optional(), runId: id.optional() }).strict(),
  ),
  'runs:exportAdapter': channel<{ path: string }>()(
    z.object({ runId: id, path: filePath.optional(), overwrite: z.boolean().optional() }).strict(),
  ),
  'runs:importAdapter': channel<RunRecord>()(z.object({ path: filePath }).strict()),
  'predictions:skip': channel<PredictionReview>()(z.object({ predictionId: id }).strict()),
  'predictions:runs': channel<ImageResults[]>()(z.object({ imageId: id }).strict()),
};

export type Api = typeof api;
export type Channel = keyof Api;
export type Input<C extends Channel> = z.input<Api[C]['input']>;
export type Output<C extends Channel> = Api[C]['output'];
export const channels = Object.keys(api) as Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}

// ---- events pushed from main to every client ----

export interface ImportProgress {
  done: number;
  total: number;
  added: number;
  duplicates: number;
  unreadable: number;
  current: string;
}

/** A job's progress as the worker reports it, with the job it belongs to and its state. */
export interface JobProgress extends WorkerProgress {
  jobId: string;
  kind: JobKind;
  runId: number | null;
  status: RunStatus;
  error: string | null;
}

export interface Events {
  'import:progress': ImportProgress;
  'job:progress': JobProgress;
  'project:changed': { reason: string };
}
export type EventName = keyof Events;

// ---- errors are values with a kind ----

export type ApiErrorKind = 'invalid-input' | 'not-found' | 'no-project' | 'conflict' | 'io' | 'internal';

export interface ApiErrorValue {
  kind: ApiErrorKind;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
  ) {
    super(message);
  }
  toValue(): ApiErrorValue {
    return { kind: this.kind, message: this.message };
  }
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorValue };

/** What the renderer (and tests) program against, whatever carries it. */
export interface ApiClient {
  call<C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}
