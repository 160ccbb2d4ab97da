// Issue 11's two checks against what a small synthetic LBC slide planted, through the
// workstation API and the real worker process (the scenario is test/support/plantedCells.ts; the
// benchmark bench/cells.ts runs it on a larger slide and prints the figures):
//  - the class of each detected cell equals the class the same run gives its source crop;
//  - the gallery's top N for the chosen class holds only planted cells of that class.
// Not timed. The run is a short LoRA on a tiny random encoder (width 64, 32 px input), the kind
// of model the repository's tests use: it is not invariant to the small shifts, neighbours and glass
// differences between a crop and its cell on the slide, and agrees on 86 % of this slide's cells
// (93 % on the benchmark's larger one) where the issue asks >= 95 % of a real foundation model
// (bench/cells.ts prints the figures and takes --model for a real checkpoint). So this test holds
// the loop to 80 %: a guard against regressions of the slide path (wrong training scale,
// off-centre squares, classes mixed up) that asks the tiny model for no more than it gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/paths';
import { plantedCellsCheck, type PlantedCellsResult } from '../support/plantedCells';
import { inProcess, type Harness } from '../support/servers';

let h: Harness;
let r: PlantedCellsResult;

beforeAll(async () => {
  h = inProcess();
  r = await plantedCellsCheck(h.client, {
    dir: tempDir(),
    classes: ['severe_dysplastic', 'normal_superficiel'],
    cropsPerClass: 20,
    cells: 80,
    seed: 3,
    labelsPerClass: 24,
    labelSide: 48,
    method: 'lora',
    length: 600,
    lr: 0.003,
    turn: false,
  });
}, 600_000);
afterAll(async () => h?.close());

describe('cells against the planted truth of a synthetic slide', () => {
  it('detects the planted cells (the matching rule of bench/detect.ts)', () => {
    expect(r.recall).toBeGreaterThanOrEqual(0.95);
    expect(r.precision).toBeGreaterThanOrEqual(0.9);
  });

  it('gives each detected cell the class the same run gives its source crop', () => {
    expect(r.matched).toBeGreaterThanOrEqual(0.95 * r.slide.cells.length);
    // Agreement alone would hold for a run that answers one class: it must also be right.
    for (const [cls, c] of Object.entries(r.perClass)) expect(c.cellsRight, cls).toBeGreaterThanOrEqual(0.8 * c.matched);
    expect(r.agreement).toBeGreaterThanOrEqual(0.8);
  });

  it('ranks the planted cells of the chosen class first in the gallery', () => {
    expect(r.galleryN).toBe(Math.min(30, r.slide.cells.filter((c) => c.className === r.chosen).length));
    expect(r.galleryTruth).toEqual(Array(r.galleryN).fill(r.chosen));
  });
});
