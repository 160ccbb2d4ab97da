// The paper's study as experiment grids (`cytotune study paper`): which datasets and checkpoints
// it needs, found by the layout the README documents (section "The paper's runs"), and the grids
// that reproduce its three experiments with its settings (shared/training.ts PAPER_DEFAULTS):
//   1. Table 1: linear probe on 100 % of each training split, five models x four datasets;
//   2. Figure 1: few-shot LoRA (r 2 on q,v) per shots, five models x four datasets (HiCervix at
//      level 3, as the seed's launch script runs it);
//   3. Figure 2: CLIP ViT-L/14 LoRA (r 16 on q,k,v,o, lr 1e-3) on HiCervix by percentage.
// Experiments 1 and 2 of a dataset share one output folder (same protocol), so its summary and
// Figure 1 show the 100 % probe beside the LoRA curves. Nothing here trains: runStudy.ts does.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { experimentOptions, PAPER_DEFAULTS, PAPER_PROTOCOL, type ExperimentOptions, type ProjectionName } from '../../shared/training';

export type DatasetKey = 'sipakmed' | 'bcfc' | 'mlcc' | 'hicervix';

export interface StudyDataset {
  key: DatasetKey;
  title: string;
  /** The layout under --data-root, as the README documents it. */
  layout: string;
  /** Level of the class tree trained at (HiCervix), else null (flat classes). */
  level: number | null;
}

export const STUDY_DATASETS: readonly StudyDataset[] = [
  { key: 'sipakmed', title: 'SIPaKMeD', layout: 'sipakmed/<class>/*.bmp (or sipakmed/{train,val,test}/<class>/)', level: null },
  { key: 'bcfc', title: 'BCFC', layout: 'bcfc/<class>/*.png (or bcfc/{train,val,test}/<class>/)', level: null },
  { key: 'mlcc', title: 'MLCC', layout: 'mlcc/<class>/*.jpg (or mlcc/{train,val,test}/<class>/)', level: null },
  {
    key: 'hicervix',
    title: 'HiCervix',
    layout: 'hicervix/{train,val,test}/<level_1>__<level_2>[__<level_3>]/*.jpg',
    level: PAPER_DEFAULTS.study.hicervixLevel,
  },
];

export interface StudyModel {
  label: string;
  title: string;
  /** Paths under --models tried in order (the README's table of checkpoints). */
  files: readonly string[];
}

export const STUDY_MODELS: readonly StudyModel[] = [
  { label: 'clip-b16', title: 'CLIP ViT-B/16', files: ['ViT-B-16.pt', 'clip-vit-base-patch16/model.safetensors'] },
  {
    label: 'quilt',
    title: 'QuiltNet-B-32',
    files: ['QuiltNet-B-32/open_clip_pytorch_model.bin', 'QuiltNet-B-32/open_clip_model.safetensors'],
  },
  {
    label: 'biomedclip',
    title: 'BiomedCLIP',
    files: ['BiomedCLIP/open_clip_pytorch_model.bin', 'BiomedCLIP/open_clip_model.safetensors'],
  },
  { label: 'uni', title: 'UNI', files: ['UNI/pytorch_model.bin', 'UNI/model.safetensors'] },
  {
    label: 'vit-google',
    title: 'ViT-B/16 (Google)',
    files: ['vit-base-patch16-224/model.safetensors', 'vit-base-patch16-224/pytorch_model.bin'],
  },
  { label: 'clip-l14', title: 'CLIP ViT-L/14', files: ['ViT-L-14.pt', 'clip-vit-large-patch14/model.safetensors'] },
];

/** The five models of Experiments 1 and 2; CLIP ViT-L/14 is Experiment 3's only. */
export const FEW_SHOT_MODELS = ['clip-b16', 'quilt', 'biomedclip', 'uni', 'vit-google'];
export const PERCENT_MODEL = 'clip-l14';

export interface Found {
  path: string | null;
  /** Why it is missing (what was looked for), or where it was found. */
  note: string;
}

export interface StudyInputs {
  dataRoot: string;
  modelsDir: string;
  datasets: Record<DatasetKey, Found>;
  models: Record<string, Found>;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

export function findStudyInputs(dataRoot: string, modelsDir: string): StudyInputs {
  const root = resolve(dataRoot);
  const models = resolve(modelsDir);
  const datasets = {} as Record<DatasetKey, Found>;
  for (const d of STUDY_DATASETS) {
    const p = join(root, d.key);
    const hicervixSplits = d.key !== 'hicervix' || ['train', 'test'].every((s) => isDir(join(p, s)));
    datasets[d.key] =
      isDir(p) && hicervixSplits
        ? { path: p, note: p }
        : {
            path: null,
            note: `${d.title}: ${isDir(p) ? `${p} has no train/ and test/ folders` : `${p} not found`} (expected ${d.layout})`,
          };
  }
  const found: Record<string, Found> = {};
  for (const m of STUDY_MODELS) {
    const hit = m.files.map((f) => join(models, f)).find(isFile);
    found[m.label] = hit
      ? { path: hit, note: hit }
      : { path: null, note: `${m.title}: none of ${m.files.map((f) => join(models, f)).join(', ')}` };
  }
  return { dataRoot: root, modelsDir: models, datasets, models: found };
}

/** Settings a user may change for a quick look (the report then says they are not the paper's). */
export interface StudyOverrides {
  shots?: number[];
  seeds?: number[];
  lrs?: number[];
  percents?: number[];
  iters?: number;
  epochs?: number;
  microBatch?: number;
  /** Only these model labels / dataset keys. */
  models?: string[];
  datasets?: DatasetKey[];
}

export interface StudyPart {
  /** e.g. "sipakmed: linear probe (Table 1)". */
  id: string;
  experiment: 1 | 2 | 3;
  dataset: DatasetKey;
  /** null when the part cannot run (see `skipped`). */
  options: ExperimentOptions | null;
  /** Why the part, or some of its models, are left out. */
  skipped: string[];
}

export function studyParts(inputs: StudyInputs, outDir: string, o: StudyOverrides = {}): StudyPart[] {
  const out = resolve(outDir);
  const wantedModels = (labels: string[]) => labels.filter((l) => !o.models || o.models.includes(l));
  const parts: StudyPart[] = [];
  const part = (
    experiment: 1 | 2 | 3,
    d: StudyDataset,
    title: string,
    folder: string,
    labels: string[],
    grid: Partial<ExperimentOptions>,
    lora?: { rank: number; targets: ProjectionName[] },
  ) => {
    const id = `${d.key}: ${title}`;
    const skipped: string[] = [];
    const data = inputs.datasets[d.key];
    const present = wantedModels(labels).filter((l) => {
      if (inputs.models[l].path) return true;
      skipped.push(`model ${l} left out: ${inputs.models[l].note}`);
      return false;
    });
    if (!data.path) skipped.unshift(`not run: ${data.note}`);
    else if (present.length === 0) skipped.unshift('not run: none of its checkpoints was found');
    const protocol = {
      ...PAPER_PROTOCOL,
      level: d.level,
      ...(o.iters !== undefined ? { iters: o.iters } : {}),
      ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
      ...(lora ?? {}),
    };
    const options =
      data.path && present.length
        ? experimentOptions({
            data: data.path,
            out: join(out, folder),
            checkpoints: present.map((l) => ({ label: l, path: inputs.models[l].path! })),
            ...grid,
            ...(o.seeds ? { seeds: o.seeds } : {}),
            ...(o.microBatch ? { microBatch: Math.min(o.microBatch, protocol.batch) } : {}),
            protocol,
          })
        : null;
    parts.push({ id, experiment, dataset: d.key, options, skipped });
  };
  const datasets = STUDY_DATASETS.filter((d) => !o.datasets || o.datasets.includes(d.key));
  const g = PAPER_DEFAULTS.grid;
  const lrs = o.lrs ?? [...g.lrs];
  // Table 1 first for every dataset: cheap (features once per model), and the reference line of Figure 1.
  for (const d of datasets)
    part(1, d, 'linear probe, 100 % of the training split (Table 1)', d.key, FEW_SHOT_MODELS, {
      methods: ['linear'],
      shots: [],
      percents: [],
      lrs,
    });
  for (const d of datasets)
    part(2, d, 'few-shot LoRA (Figure 1)', d.key, FEW_SHOT_MODELS, {
      methods: ['lora'],
      shots: o.shots ?? [...g.shots],
      percents: [],
      lrs,
    });
  const p = PAPER_DEFAULTS.study.percent;
  const hicervix = datasets.find((d) => d.key === 'hicervix');
  if (hicervix)
    part(
      3,
      hicervix,
      `CLIP ViT-L/14 LoRA r ${p.rank} on ${p.targets.join(',')} by % of the training split (Figure 2)`,
      'hicervix-percent',
      [PERCENT_MODEL],
      { methods: ['lora'], shots: [], percents: o.percents ?? [...p.percents], lrs: o.lrs ?? [...p.lrs] },
      { rank: p.rank, targets: [...p.targets] },
    );
  return parts;
}

/** What the overrides change, for the plan and the report ("" when the study is the paper's). */
export function overridesText(o: StudyOverrides): string {
  const parts = Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`);
  return parts.length ? `not the paper's settings: ${parts.join('; ')}` : '';
}
