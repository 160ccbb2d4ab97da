// Domain types shared by main, renderer, worker and CLI. Plain data only.
import type { Box } from './image';
import type { JobKind } from './jobs';

export type ImageKind = 'slide' | 'image';
export type AnnotationSource = 'manual' | 'import' | 'accepted-prediction';
export type RunStatus = 'queued' | 'running' | 'cancelled' | 'failed' | 'completed';

export interface ClassRecord {
  id: number;
  parentId: number | null;
  name: string;
  /** CSS colour, #rrggbb. */
  color: string;
  /** A single key ('1'..'9', '0') that picks this class while labelling, or null. */
  shortcut: string | null;
  /** Order among siblings. */
  position: number;
}

export interface ClassNode extends ClassRecord {
  children: ClassNode[];
  /** Live (not deleted) annotations of this class alone. */
  labelCount: number;
  /** labelCount of this class plus all its descendants. */
  totalCount: number;
}

export interface ImageRecord {
  id: number;
  kind: ImageKind;
  path: string;
  sha256: string;
  width: number;
  height: number;
  mpp: number | null;
  addedAt: string;
}

export interface ImageSummary extends ImageRecord {
  /** classId -> live annotation count on this image. */
  counts: Record<number, number>;
}

export interface Annotation {
  id: number;
  imageId: number;
  classId: number;
  box: Box;
  source: AnnotationSource;
  author: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface ModelRecord {
  id: number;
  path: string;
  sha256: string;
  family: string;
  config: Record<string, unknown>;
  addedAt: string;
}

export interface RunRecord {
  id: number;
  modelId: number | null;
  config: Record<string, unknown>;
  seed: number;
  status: RunStatus;
  metrics: Record<string, unknown> | null;
  adapterPath: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RunMetric {
  runId: number;
  step: number;
  loss: number | null;
  lr: number | null;
  accuracy: number | null;
  imagesPerSecond: number | null;
}

export interface Prediction {
  id: number;
  runId: number;
  imageId: number;
  box: Box;
  classId: number;
  probabilities: number[];
  entropy: number;
  /** The detected cell this prediction is centred on (cell mode), or null for a grid patch or image. */
  cellId: number | null;
  /** What the review queue decided about it (predictions:list), or null while it waits. */
  review?: PredictionReview | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: number | null;
  before: unknown;
  after: unknown;
}

export interface ProjectInfo {
  path: string;
  name: string;
  schemaVersion: number;
  settings: ProjectSettings;
  /** True when this instance cannot change the project (another instance holds it, or no write permission). */
  readOnly: boolean;
  /** What the user should know about the file: read-only and why, damage found by quick_check, labels outside their image. */
  warnings: string[];
}

export interface ProjectSettings {
  /** Side of the square patch dropped by a click, level-0 pixels. */
  patchSize: number;
  /** Labels wanted per class (shots target). */
  shotTarget: number;
}

export interface ImportProblem {
  path: string;
  reason: string;
}

export interface ImportSummary {
  added: number;
  duplicates: number;
  duplicatePaths: string[];
  unreadable: ImportProblem[];
  classesCreated: string[];
  labelled: number;
  /** Symbolic links followed (image files, class folders), as they are named in the tree. */
  links: string[];
  /** What was imported differently from what the layout suggests (a slide in a class folder is not labelled). */
  notes: string[];
}

export interface ProjectCounts {
  images: Record<ImageKind, number>;
  annotations: number;
}

export interface ModelInspection {
  path: string;
  sha256: string;
  sizeBytes: number;
  family: string;
  config: Record<string, unknown>;
  parameterCount: number;
}

/** One class of a training plan: labels used for training and for validation. */
export interface PlanClass {
  id: number;
  name: string;
  train: number;
  val: number;
  /** Subclasses whose labels this class takes (a coarse level of the tree), when any. */
  includes?: string[];
}

export interface JobSummary {
  id: number;
  kind: JobKind;
  runId: number | null;
  status: RunStatus;
  progress: { step: number; total: number; phase?: string; etaSeconds?: number } | null;
  error: string | null;
  /** Experiments: { status, outDir, total, done, summary (path), figures (file names) }. */
  result: unknown;
  createdAt: string;
  /** The job's number among this project's jobs of its kind, from 1 ("Experiment 1"). */
  number?: number;
}

/** Shown where no model is installed yet: what to download on a connected machine. */
export const modelHelp =
  'No foundation model yet. On a connected machine download a checkpoint, e.g. CLIP ViT-B/16 ' +
  '(Hugging Face openai/clip-vit-base-patch16, file model.safetensors), UNI (MahmoodLab/UNI, pytorch_model.bin), ' +
  'BiomedCLIP (microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224, open_clip_pytorch_model.bin) or QuiltNet-B-32 ' +
  '(wisdomik/QuiltNet-B-32, open_clip_pytorch_model.bin), copy it to this computer and add it here by its path.';

/**
 * A review-queue decision on a prediction: accepted as predicted, corrected to another class (both
 * made the label `annotationId`), or skipped for later. A label since deleted or undone reopens it.
 */
export interface PredictionReview {
  decision: 'accepted' | 'corrected' | 'skipped';
  annotationId: number | null;
  actor: string;
  at: string;
}

/** A run with predictions on one image (the viewer's overlay picker). */
export interface ImageResults {
  runId: number;
  predictions: number;
}

/** Which images the grid shows: of a class (with its subclasses), of a kind, labelled or not, by name. */
export interface ImageFilter {
  classId?: number;
  kind?: ImageKind;
  labelled?: 'labelled' | 'unlabelled';
  /** Part of the file name, any case. */
  name?: string;
}

/** What a training run will take, shown before it starts (training:estimate). */
export interface TrainingEstimate {
  classes: PlanClass[];
  /** Worth knowing before starting (few labels, unbalanced classes, a very long run); it can start anyway. */
  warnings: string[];
  /** What stops it from starting (a class without labels). */
  problems: string[];
  trainImages: number;
  valImages: number;
  steps: number;
  batchSize: number;
  /** Training images per second: LoRA's forward and backward passes, or the probe's frozen forward passes. */
  imagesPerSecond: number;
  /** Earlier runs of this model and method on this computer, or the model's size. */
  speedSource: 'measured' | 'model size';
  seconds: number;
}
