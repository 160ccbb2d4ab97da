// Cell detection of one image in the worker: tile by tile through the same readers as the
// viewer, each finished tile's cells sent to main (which stores them with the checkpoint), so
// a cancel or a crash resumes after the last stored tile. Progress carries tiles and time left.
import type { DetectedCell } from '../../shared/cells';
import type { DetectJobResult, DetectJobSpec } from '../../shared/jobs';
import { CellDetectionError, detectCells, type DetectionParams } from '../../slides/cells';
import { openSlide } from '../../slides/slideOpener';
import type { JobContext } from './registry';

export async function runDetectJob(spec: DetectJobSpec, ctx: JobContext): Promise<DetectJobResult> {
  const reader = await openSlide(spec.path);
  const t0 = performance.now();
  let first: number | null = null;
  let found = 0;
  // The detector reports a tile's cells, then the checkpoint past it: both travel in one message.
  let pending: { tile: number; cells: DetectedCell[] } | null = null;
  try {
    const result = await detectCells(reader, spec.params as Partial<DetectionParams>, {
      level: spec.level,
      signal: ctx.signal,
      resumeFrom: spec.resumeFrom,
      // Cells go to main tile by tile; the worker keeps none (bounded memory on any slide).
      returnDetections: false,
      onTile: (tile, cells) => (pending = { tile, cells }),
      onProgress: (p) => {
        found = p.cells;
        first ??= p.tilesDone;
        const done = p.tilesDone - first;
        const elapsed = (performance.now() - t0) / 1000;
        const left = p.tilesTotal - p.tilesDone;
        ctx.progress({
          step: p.tilesDone,
          total: p.tilesTotal,
          phase: `detecting cells: ${p.cells} so far`,
          etaSeconds: done > 0 ? (elapsed / done) * left : undefined,
        });
        ctx.cells(pending?.tile ?? p.tilesDone - 1, pending?.cells ?? [], p.checkpoint);
        pending = null;
      },
    });
    return {
      cells: found,
      tilesTotal: result.tilesTotal,
      tilesSkipped: result.tilesSkipped,
      umPerPx: result.umPerPx,
      mppAssumed: result.mppAssumed,
    };
  } catch (err) {
    // Bad parameters or options are the user's to fix: say so with the detector's own message.
    if (err instanceof CellDetectionError && err.kind !== 'cancelled')
      throw Object.assign(new Error(err.message), { kind: 'invalid-input' });
    throw err;
  } finally {
    reader.close();
  }
}
