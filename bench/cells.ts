// The cell loop against a synthetic LBC slide's truth (issue 11, "Test data and numbers"), on
// the app's own code paths through the workstation API (test/support/plantedCells.ts):
//  - agreement: matched detected cells whose class (cells:classify) equals the class the same
//    run gives their source Herlev crop classified as a whole image (classify:start); target >= 95 %;
//  - gallery: the top N of cells:gallery for the first class (N = its planted cells, at most 30)
//    are all planted cells of that class.
//   node --import tsx bench/cells.ts [--cells 200] [--seed 1] [--method lora] [--length 600]
//     [--lr 0.003] [--labels 24] [--side 48] [--crops 20] [--turn 0] [--model CHECKPOINT]
//     [--classes severe_dysplastic,normal_superficiel]
// The default model is a tiny random CLIP-layout encoder (width 64, 32 px input): what the
// numbers show is how far the slide path (detection, cell-centred squares at the training scale,
// JPEG tiles, neighbours) moves that run's answer away from its answer on the crop, not what a
// real foundation model would do; --model runs the same with a real checkpoint.
import { cpus, loadavg } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../test/support/paths';
import { plantedCellsCheck, type PlantedCellsOptions } from '../test/support/plantedCells';
import { inProcess } from '../test/support/servers';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const dir = tempDir('cytotune-bench-cells-');
const options: PlantedCellsOptions = {
  dir,
  classes: arg('classes', 'severe_dysplastic,normal_superficiel').split(','),
  cropsPerClass: Number(arg('crops', '20')),
  cells: Number(arg('cells', '200')),
  seed: Number(arg('seed', '1')),
  labelsPerClass: Number(arg('labels', '24')),
  labelSide: Number(arg('side', '48')),
  method: arg('method', 'lora') as 'lora' | 'linear',
  length: Number(arg('length', '600')),
  lr: Number(arg('lr', '0.003')),
  // Crops planted as they are: the check compares a cell with the very picture it was made from.
  turn: arg('turn', '0') !== '0',
  checkpoint: process.argv.includes('--model') ? arg('model', '') : undefined,
};

const h = inProcess();
const t0 = performance.now();
const r = await plantedCellsCheck(h.client, options);
const wall = (performance.now() - t0) / 1000;
await h.close();

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(
  `\nsynthetic LBC slide: ${r.slide.width}x${r.slide.height} px, ${r.slide.cells.length} planted cells of ${options.classes.join(' and ')} ` +
    `(${options.cropsPerClass} crops each); ${r.detected} detected, recall ${r.recall.toFixed(3)}, precision ${r.precision.toFixed(3)}`,
);
console.log(
  `run: ${options.method} (${options.length} ${options.method === 'lora' ? 'steps' : 'epochs'}, lr ${options.lr}) on ${options.checkpoint ?? 'the tiny random encoder'}, ` +
    `${options.labelsPerClass} labelled cells per class at ${options.labelSide} px`,
);
console.table(
  Object.entries(r.perClass).map(([cls, c]) => ({
    'planted class': cls,
    'matched cells': c.matched,
    'cell = its crop': `${c.agreeing} (${pct(c.matched ? c.agreeing / c.matched : 0)})`,
    'cells right': c.cellsRight,
    'crops right': `${c.cropsRight}/${c.crops}`,
  })),
);
const rows = [
  { check: 'cell class = its crop class, matched cells', value: pct(r.agreement), target: '>= 95 %', pass: r.agreement >= 0.95 },
  {
    check: `  the same, the ${r.unlabelledMatched} cells not labelled for training`,
    value: pct(r.unlabelledAgreement),
    target: '>= 95 %',
    pass: r.unlabelledAgreement >= 0.95,
  },
  {
    check: '  cell class = class of its crop as planted (alone on the glass)',
    value: pct(r.plantedAgreement),
    target: '(diagnostic)',
    pass: r.plantedAgreement >= 0.95,
  },
  {
    check: `gallery top ${r.galleryN} for ${r.chosen}: planted ${r.chosen} cells`,
    value: `${r.galleryHits}/${r.galleryN}`,
    target: 'all',
    pass: r.galleryHits === r.galleryN,
  },
  {
    check: `  whole ranking: ${r.chosen} cells before any other, of ${r.matchedChosen} matched`,
    value: String(r.leadingChosen),
    target: '(diagnostic)',
    pass: r.leadingChosen === r.matchedChosen,
  },
];
console.table(rows);
console.log(
  `seconds: generate ${r.seconds.generate.toFixed(1)}, detect ${r.seconds.detect.toFixed(1)}, train ${r.seconds.train.toFixed(1)}, ` +
    `classify cells ${r.seconds.classifyCells.toFixed(1)}, classify crops ${r.seconds.classifyCrops.toFixed(1)}; total ${wall.toFixed(1)} (jobs are polled every 0.2 s)`,
);
const load = loadavg()[0];
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load average ${load.toFixed(1)} during the run`);

mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
const { slide, ...result } = r;
writeFileSync(
  join(repoRoot, 'bench/results/cells.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      options: { ...options, dir: undefined },
      slide: { width: slide.width, height: slide.height, planted: slide.cells.length },
      ...result,
      rows,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverage: load },
    },
    null,
    2,
  ) + '\n',
);
console.log('wrote bench/results/cells.json');
rmSync(dir, { recursive: true, force: true });
process.exit(0);
