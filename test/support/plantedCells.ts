// Two checks of the cell loop against what the synthetic slide planted (issue 11, "Test data and
// numbers"), run through the workstation API on the app's own code paths: detection
// (cells:detect), training (runs:start), cell classification (cells:classify), whole-image
// classification of the source crops (classify:start) and the gallery ranking (cells:gallery).
//  - agreement: for each detected cell matched to a planted cell (src/slides/cells/match.ts:
//    within 0.8 of its radius, each truth once), does the run give it the class it gives the
//    crop the cell was made from?
//  - gallery: are the top N of the gallery for the chosen class (N = the planted cells of that
//    class, at most 30) all planted cells of that class?
// Reported with them: how many cells and crops the run gets right, and (a diagnostic) agreement
// with each cell as planted, alone on clean glass at the training side.
// The benchmark (bench/cells.ts) and the integration test (test/integration/plantedCells.test.ts)
// share this scenario; only the sizes differ.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateSyntheticLbcSlide, type SyntheticSlide } from '../../scripts/synthetic-lbc-slide';
import type { ApiClient } from '../../src/shared/api';
import { matchDetections } from '../../src/slides/cells/match';
import { herlevDir } from './paths';
import { writeTinyCheckpoint } from './tinyModel';

export interface PlantedCellsOptions {
  /** Working folder (crops, slide, project). */
  dir: string;
  /** Herlev classes to plant; the first is the gallery's chosen class. */
  classes: string[];
  /** Crops per class the slide draws from (the first by name). */
  cropsPerClass: number;
  cells: number;
  seed: number;
  /** Cells labelled per class on the slide to train the run. */
  labelsPerClass: number;
  /** Side of the labelled cell-centred squares, level-0 px (sets the run's training scale). */
  labelSide: number;
  method: 'linear' | 'lora';
  /** Epochs (linear probe) or steps (LoRA). */
  length: number;
  lr: number;
  /** Passed to the generator (see SyntheticSlideOptions). */
  turn?: boolean;
  /** The base model; by default a tiny random CLIP-layout encoder (test/support/tinyModel.ts). */
  checkpoint?: string;
}

export interface PlantedCellsResult {
  slide: SyntheticSlide;
  detected: number;
  matched: number;
  recall: number;
  precision: number;
  /** Matched cells whose class equals the class the run gives their source crop. */
  agreeing: number;
  agreement: number;
  /** The same over the matched cells that were not labelled to train the run. */
  unlabelledMatched: number;
  unlabelledAgreement: number;
  /**
   * Matched cells whose class equals the class the run gives the crop as planted: the generator's
   * picture of the cell alone on the slide's glass, a square of the training side centred on its
   * nucleus. What the slide adds (neighbours, debris, noise, JPEG, where detection puts the
   * centre), without what the crop's own glass and framing change.
   */
  plantedAgreement: number;
  /**
   * Per planted class: matched cells, agreeing cells, and how many cells and crops the run puts in
   * their planted class (agreement alone would also hold for a run that answers one class).
   */
  perClass: Record<string, { matched: number; agreeing: number; cellsRight: number; crops: number; cropsRight: number }>;
  chosen: string;
  galleryN: number;
  /** Of the gallery's top N: cells that are planted cells of the chosen class. */
  galleryHits: number;
  /** What each of the top N is: a planted class, or 'none' (a detection of no planted cell). */
  galleryTruth: string[];
  /** Over the whole ranking: planted cells of the chosen class before any other cell, of how many matched. */
  leadingChosen: number;
  matchedChosen: number;
  seconds: { generate: number; detect: number; train: number; classifyCells: number; classifyCrops: number };
}

async function waitForJobs(client: ApiClient, kind: string, count: number, ms = 600_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const jobs = (await client.call('jobs:list', {})).filter((j) => j.kind === kind);
    if (jobs.length >= count && jobs.every((j) => !['queued', 'running'].includes(j.status))) {
      const failed = jobs.find((j) => j.status !== 'completed');
      if (failed) throw new Error(`${kind} job ${failed.id} ended ${failed.status}: ${failed.error ?? ''}`);
      return;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${kind}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A crop or planted picture by its folder and name (what the truth's `source` holds). */
const tail = (path: string) => path.split(/[\\/]/).slice(-2).join('/');
const seconds = (t0: number) => (performance.now() - t0) / 1000;

export async function plantedCellsCheck(client: ApiClient, o: PlantedCellsOptions): Promise<PlantedCellsResult> {
  const crops = join(o.dir, 'crops');
  for (const cls of o.classes) {
    mkdirSync(join(crops, cls), { recursive: true });
    for (const f of readdirSync(join(herlevDir, cls)).sort().slice(0, o.cropsPerClass))
      cpSync(join(herlevDir, cls, f), join(crops, cls, f));
  }
  let t0 = performance.now();
  const slide = await generateSyntheticLbcSlide({
    out: join(o.dir, 'lbc.tiff'),
    cells: o.cells,
    seed: o.seed,
    sourceDir: crops,
    mpp: 0.5,
    turn: o.turn,
    planted: { dir: join(o.dir, 'planted'), side: o.labelSide },
  });
  const generate = seconds(t0);

  await client.call('project:create', { path: join(o.dir, 'planted.cytotune') });
  const sources = [...new Set(slide.cells.map((c) => c.source))].sort();
  const planted = slide.cells.map((c) => c.planted!);
  await client.call('import:run', { paths: [slide.path, ...sources.map((s) => join(crops, s)), ...planted] });
  const images = await client.call('images:list', { limit: 5000 });
  const slideImage = images.find((i) => i.kind === 'slide')!;
  const cropImage = new Map<string, number>();
  const plantedImage = new Map<string, number>();
  for (const i of images)
    if (i.kind === 'image' && i.path.endsWith('.png')) plantedImage.set(tail(i.path), i.id);
    else if (i.kind === 'image') cropImage.set(tail(i.path), i.id);
  const classId: Record<string, number> = {};
  for (const name of o.classes) classId[name] = (await client.call('classes:create', { name })).id;

  t0 = performance.now();
  await client.call('cells:detect', { imageId: slideImage.id });
  await waitForJobs(client, 'detect', 1);
  const detect = seconds(t0);
  const cells = await client.call('cells:list', { imageId: slideImage.id });
  const match = matchDetections(slide.cells, cells);
  const truthOfCell = new Map(match.pairs.map(([t, d]) => [cells[d].id, slide.cells[t]]));

  // The run, trained on cells labelled on the slide as a user would (the detected cell matched to
  // each of the first planted cells of each class), at the side that sets its training scale.
  const half = o.labelSide / 2;
  const labelled = new Set<number>();
  for (const cls of o.classes) {
    const picked = match.pairs.filter(([t]) => slide.cells[t].className === cls).slice(0, o.labelsPerClass);
    for (const [, d] of picked) {
      labelled.add(cells[d].id);
      await client.call('annotations:create', {
        imageId: slideImage.id,
        classId: classId[cls],
        box: { x: Math.round(cells[d].x - half), y: Math.round(cells[d].y - half), w: o.labelSide, h: o.labelSide },
      });
    }
  }
  t0 = performance.now();
  const model = await client.call('models:add', { path: o.checkpoint ?? writeTinyCheckpoint(o.dir) });
  const run = await client.call('runs:start', {
    modelId: model.id,
    method: o.method,
    classIds: o.classes.map((c) => classId[c]),
    seed: 1,
    settings: o.method === 'linear' ? { epochs: o.length, lr: o.lr } : { steps: o.length, lr: o.lr },
  });
  await waitForJobs(client, 'train', 1);
  const train = seconds(t0);

  t0 = performance.now();
  await client.call('cells:classify', { runId: run.id, imageIds: [slideImage.id] });
  await waitForJobs(client, 'classify', 1);
  const classifyCells = seconds(t0);
  t0 = performance.now();
  await client.call('classify:start', { runId: run.id, imageIds: [...cropImage.values(), ...plantedImage.values()] });
  await waitForJobs(client, 'classify', 2);
  const classifyCrops = seconds(t0);

  const cropClass = new Map<number, number>();
  for (const p of await client.call('predictions:list', { runId: run.id }))
    if (p.imageId !== slideImage.id) cropClass.set(p.imageId, p.classId);
  const cellPredictions = await client.call('predictions:list', { runId: run.id, imageId: slideImage.id });
  const perClass: PlantedCellsResult['perClass'] = Object.fromEntries(
    o.classes.map((c) => [c, { matched: 0, agreeing: 0, cellsRight: 0, crops: 0, cropsRight: 0 }]),
  );
  for (const [source, imageId] of cropImage) {
    const planted = source.split('/')[0];
    perClass[planted].crops++;
    if (cropClass.get(imageId) === classId[planted]) perClass[planted].cropsRight++;
  }
  let plantedAgreeing = 0;
  let unlabelledMatched = 0;
  let unlabelledAgreeing = 0;
  for (const p of cellPredictions) {
    const truth = p.cellId === null ? undefined : truthOfCell.get(p.cellId);
    if (!truth) continue;
    const agrees = cropClass.get(cropImage.get(truth.source)!) === p.classId;
    perClass[truth.className].matched++;
    if (p.classId === classId[truth.className]) perClass[truth.className].cellsRight++;
    if (agrees) perClass[truth.className].agreeing++;
    if (cropClass.get(plantedImage.get(tail(truth.planted!))!) === p.classId) plantedAgreeing++;
    if (!labelled.has(p.cellId!)) {
      unlabelledMatched++;
      if (agrees) unlabelledAgreeing++;
    }
  }
  const matched = Object.values(perClass).reduce((s, c) => s + c.matched, 0);
  const agreeing = Object.values(perClass).reduce((s, c) => s + c.agreeing, 0);

  const chosen = o.classes[0];
  const galleryN = Math.min(30, slide.cells.filter((c) => c.className === chosen).length);
  const g = await client.call('cells:gallery', { runId: run.id, imageId: slideImage.id, classIds: [classId[chosen]], limit: galleryN });
  const galleryTruth = g.cells.map((c) => truthOfCell.get(c.cellId)?.className ?? 'none');
  const all = await client.call('cells:gallery', {
    runId: run.id,
    imageId: slideImage.id,
    classIds: [classId[chosen]],
    limit: Math.min(1000, cells.length),
  });
  const ranked = all.cells.map((c) => truthOfCell.get(c.cellId)?.className ?? 'none');
  const firstOther = ranked.findIndex((t) => t !== chosen);
  return {
    slide,
    detected: cells.length,
    matched,
    recall: match.recall,
    precision: match.precision,
    agreeing,
    agreement: matched ? agreeing / matched : 0,
    unlabelledMatched,
    unlabelledAgreement: unlabelledMatched ? unlabelledAgreeing / unlabelledMatched : 0,
    plantedAgreement: matched ? plantedAgreeing / matched : 0,
    perClass,
    chosen,
    galleryN,
    galleryHits: galleryTruth.filter((t) => t === chosen).length,
    galleryTruth,
    leadingChosen: firstOther < 0 ? ranked.length : firstOther,
    matchedChosen: perClass[chosen].matched,
    seconds: { generate, detect, train, classifyCells, classifyCrops },
  };
}
