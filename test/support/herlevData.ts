// Test helper: a small, fixed subset of the real Herlev images (test/fixtures/data/herlev-40px).

import type { LabeledItem } from '../../src/ml/data/fewShot';
import { scanImageFolder } from '../../src/ml/data/imageFolder';
import { herlevDir } from './paths';

export const HERLEV_DIR = herlevDir;

/** The first `perClass` images (sorted by name) of each of `classes`, labelled in that order. */
export async function herlevSubset(classes: string[], perClass: number): Promise<LabeledItem[]> {
  const ds = await scanImageFolder(HERLEV_DIR);
  const out: LabeledItem[] = [];
  classes.forEach((cls, label) => {
    const c = ds.classNames.indexOf(cls);
    if (c < 0) throw new Error(`no Herlev class ${cls}`);
    out.push(
      ...ds.items
        .filter((it) => it.label === c)
        .slice(0, perClass)
        .map((it) => ({ path: it.path, label })),
    );
  });
  return out;
}
