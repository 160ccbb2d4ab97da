// `cytotune classify --run RUN_DIR --slide SLIDE`: every detected cell (default) or every tissue
// patch (--grid) of one slide through a trained run, on the workstation's own classification core
// (ml/inference/classifyTargets), one CSV row per cell or patch. Cells are detected first with the
// default (Pap/LBC) parameters: a slide outside a project has no stored detections. Cells are
// classified at the run's training scale, as in the workstation.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { classifyTargets } from '../../ml/inference/classifyTargets';
import { readRunConfig } from '../../ml/training/runDir';
import { cellSideFor } from '../../main/jobs/cellClassification';
import { csvField } from '../../main/export/csv';
import type { ClassifyJobResult, ClassifyTarget } from '../../shared/jobs';
import { detectCells, PAP_LBC_PRESET } from '../../slides/cells';
import { isWholeSlide } from '../../slides/slideKind';
import { openSlide } from '../../slides/slideOpener';
import { UsageError } from '../args';
import { defineCommand, failure } from '../command';
import { RUN_MODEL_OPTIONS, RUN_MODEL_SYNOPSIS } from '../runOptions';
import { formatDuration } from '../duration';
import type { Io } from '../io';
import { progressLine } from '../progressLine';

const OPTIONS = {
  run: { type: 'string', required: true },
  slide: { type: 'string', required: true },
  cells: { type: 'switch' },
  grid: { type: 'switch' },
  csv: { type: 'string', required: true },
  'patch-size': { type: 'int', min: 8 },
  stride: { type: 'int', min: 1 },
  ...RUN_MODEL_OPTIONS,
} as const;

export const command = defineCommand({
  name: 'classify',
  summary: 'classify every cell (or tissue patch) of a slide with a trained run; one CSV row each',
  usage:
    'usage: cytotune classify --run RUN_DIR --slide SLIDE [--cells | --grid] --csv OUT [--patch-size PX] [--stride PX] ' +
    `${RUN_MODEL_SYNOPSIS}\n` +
    '--cells (default): detect the nuclei (default Pap/LBC parameters, as `cytotune detect`), then classify a square\n' +
    "centred on each at the run's training scale (the labelled patches' side in um, converted with the slide's mpp).\n" +
    '--grid: classify a grid of patches over the tissue (histology). --patch-size: the square side in level-0 pixels\n' +
    '(default: the training scale); --stride: grid step (default: the side). One CSV row per cell or patch: x, y (its\n' +
    'centre, level-0 pixels), class, p_<class> for every class. --checkpoint: where the base model is now, if it moved.',
  options: OPTIONS,
  async main({ values: v }, io) {
    if (v.cells && v.grid) throw new UsageError('give either --cells or --grid, not both');
    const runDir = resolve(v.run!);
    const slidePath = resolve(v.slide!);
    // Both checked before a model is loaded or a cell detected: bad input fails at once.
    const cfg = await readRunConfig(runDir);
    if (!(await isWholeSlide(slidePath).catch(() => false)))
      throw failure(
        'not-a-slide',
        `${v.slide} is not a whole-slide image (svs, ndpi, mrxs, tiled TIFF, ...); classify images with \`cytotune predict\``,
      );
    const reader = await openSlide(slidePath);
    let target: ClassifyTarget;
    let side: number;
    try {
      const mpp = reader.mpp ? (reader.mpp.x + reader.mpp.y) / 2 : null;
      side = v['patch-size'] ?? cellSideFor({ mpp }, cfg.scale, cfg.pipeline.size);
      const [width, height] = reader.dimensions;
      target = { imageId: 0, path: slidePath, kind: 'slide', width, height };
      if (!v.grid) target = { ...target, cells: await detect(reader, io), cellSide: side };
    } finally {
      reader.close();
    }
    let report: ReturnType<typeof progressLine> | null = null;
    const t0 = performance.now();
    const result = await classifyTargets(
      { runDir, images: [target], patchSize: side, stride: v.stride ?? side, batchSize: v.batch ?? 16, engine: v.engine ?? 'auto' },
      {
        checkpoint: v.checkpoint ? resolve(v.checkpoint) : undefined,
        backend: v.backend,
        onProgress: (p) => {
          report ??= progressLine(io, 'classify');
          report(p.step, p.total, `${p.step}/${p.total} ${v.grid ? 'patches' : 'cells'}`);
        },
      },
    );
    await writeFile(resolve(v.csv!), toCsv(result, cfg.classNames, target.cells));
    const n = result.predictions.length;
    if (result.engine) io.err(`engine: ${result.engine.detail}; ${result.engine.reason}`);
    io.err(`classify: ${n} ${v.grid ? 'patches' : 'cells'} in ${formatDuration((performance.now() - t0) / 1000)} (${side} px squares)`);
    io.out(`wrote ${n} rows to ${resolve(v.csv!)}`);
    return 0;
  },
});

/** The slide's nuclei with the default parameters, numbered in detection order. */
async function detect(reader: Awaited<ReturnType<typeof openSlide>>, io: Io): Promise<{ id: number; x: number; y: number }[]> {
  const report = progressLine(io, 'detect');
  const r = await detectCells(reader, PAP_LBC_PRESET, {
    onProgress: (p) => report(p.tilesDone, p.tilesTotal, `tile ${p.tilesDone}/${p.tilesTotal}, ${p.cells} cells`),
  });
  if (r.detections.length === 0) throw failure('no-cells', 'no cells detected on the slide; classify it as a grid with --grid');
  io.err(
    `detect: ${r.detections.length} cells${r.mppAssumed ? ` (no mpp recorded: sizes assume ${PAP_LBC_PRESET.fallbackMppUm} um/px)` : ''}`,
  );
  return r.detections.map((d, i) => ({ id: i, x: d.x, y: d.y }));
}

/** x, y: the detected cell's centre, or the patch's centre, in level-0 pixels. */
function toCsv(result: ClassifyJobResult, classNames: string[], cells: ClassifyTarget['cells']): string {
  const lines = [['x', 'y', 'class', ...classNames.map((c) => `p_${c}`)].map(csvField).join(',')];
  const round = (n: number) => Math.round(n * 10) / 10;
  for (const p of result.predictions) {
    const at = p.cellId !== undefined && cells ? cells[p.cellId] : { x: p.box.x + p.box.w / 2, y: p.box.y + p.box.h / 2 };
    lines.push([round(at.x), round(at.y), csvField(classNames[p.classIndex]), ...p.probabilities.map((q) => q.toFixed(6))].join(','));
  }
  return lines.join('\n') + '\n';
}
