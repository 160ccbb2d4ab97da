// Synthetic liquid-based-cytology slides for UI tests of the cell loop: real Herlev cells of the
// chosen classes laid on glass (scripts/synthetic-lbc-slide.ts), with the truth to tell which
// class a detected cell is.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateSyntheticLbcSlide, type SyntheticSlide } from '../../scripts/synthetic-lbc-slide';
import { herlevDir } from './paths';

/** A slide of `cells` cells drawn from the given Herlev classes, written under `dir`. */
export async function syntheticSlide(
  dir: string,
  name: string,
  herlevClasses: string[],
  cells: number,
  seed: number,
): Promise<SyntheticSlide> {
  const crops = join(dir, `${name}-crops`);
  for (const cls of herlevClasses) {
    mkdirSync(join(crops, cls), { recursive: true });
    cpSync(join(herlevDir, cls), join(crops, cls), { recursive: true });
  }
  return generateSyntheticLbcSlide({ out: join(dir, `${name}.tiff`), cells, seed, sourceDir: crops, mpp: 0.5 });
}

/** The Herlev class of the planted cell nearest to (x, y), and how far it is (level-0 px). */
export function truthAt(slide: SyntheticSlide, x: number, y: number): { className: string; distance: number } {
  let best = slide.cells[0];
  for (const c of slide.cells) if (Math.hypot(c.x - x, c.y - y) < Math.hypot(best.x - x, best.y - y)) best = c;
  return { className: best.className, distance: Math.hypot(best.x - x, best.y - y) };
}
