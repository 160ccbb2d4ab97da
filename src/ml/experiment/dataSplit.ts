// The train / val / test split of an experiment: either the dataset's own `train/`, `val/`,
// `test/` folders (ImageFolder each; `val/` may be missing, then it is carved out of `train/`),
// or one ImageFolder split per class, seeded. Written to OUT/split.json with paths relative to
// --data, and reused as is when the experiment is run again (so every cell sees the same split).
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../adapters/safetensorsIo';
import type { LabeledItem } from '../data/fewShot';
import { DatasetError, scanImageFolder } from '../data/imageFolder';
import { hashSeed, Rng } from '../random';

export const SPLIT_FILE = 'split.json';

export interface SplitFile {
  format: 'cytotune-split/1';
  /** 'folders': the dataset's own train/val/test folders; 'split': split by CytoTune. */
  source: 'folders' | 'folders+val' | 'split';
  ratios: [number, number, number] | null;
  seed: number | null;
  /** Class folder names, sorted; item labels index this list. */
  classNames: string[];
  /** [path relative to --data, class index]. */
  train: [string, number][];
  val: [string, number][];
  test: [string, number][];
}

export interface DataSplit {
  root: string;
  classNames: string[];
  train: LabeledItem[];
  val: LabeledItem[];
  test: LabeledItem[];
  file: SplitFile;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Per class, a seeded shuffle cut by `ratios` (rounded; every non-empty class keeps at least one training image). */
export function stratifiedSplit(items: LabeledItem[], numClasses: number, ratios: readonly number[], seed: number): LabeledItem[][] {
  const total = ratios.reduce((a, b) => a + b, 0);
  const parts: LabeledItem[][] = ratios.map(() => []);
  for (let c = 0; c < numClasses; c++) {
    const pool = new Rng(hashSeed(seed, 'split', c)).shuffle(items.filter((it) => it.label === c));
    const n = pool.length;
    // Parts 1.. (val, test) get their rounded share; part 0 (train) takes the rest and keeps at
    // least one image (val shrinks first, then test, when a class is too small).
    const sizes = ratios.map((r) => Math.round((n * r) / total));
    let over = sizes.slice(1).reduce((a, b) => a + b, 0) - (n - 1);
    for (let i = 1; over > 0 && i < ratios.length; i++) {
      const d = Math.min(over, sizes[i]);
      sizes[i] -= d;
      over -= d;
    }
    let start = n - sizes.slice(1).reduce((a, b) => a + b, 0);
    parts[0].push(...pool.slice(0, start));
    for (let i = 1; i < ratios.length; i++) {
      parts[i].push(...pool.slice(start, start + sizes[i]));
      start += sizes[i];
    }
  }
  return parts;
}

function toFile(root: string, items: LabeledItem[]): [string, number][] {
  // Forward slashes so a split written on one system reads on another.
  return items.map((it) => [relative(root, it.path).split(sep).join('/'), it.label]);
}

function fromFile(root: string, rows: [string, number][]): LabeledItem[] {
  return rows.map(([p, label]) => ({ path: join(root, ...p.split('/')), label }));
}

/** Reads OUT/split.json when present (checking its files exist under `root`), else makes and writes one. */
export async function resolveSplit(
  root: string,
  outDir: string,
  ratios: [number, number, number],
  seed: number,
): Promise<{ split: DataSplit; reused: boolean }> {
  const path = join(outDir, SPLIT_FILE);
  if (existsSync(path)) {
    const file = JSON.parse(await readFile(path, 'utf8')) as SplitFile;
    if (file.format !== 'cytotune-split/1') throw new DatasetError(`${path} is not a CytoTune split file; remove it or use another --out`);
    const split = {
      root,
      classNames: file.classNames,
      train: fromFile(root, file.train),
      val: fromFile(root, file.val),
      test: fromFile(root, file.test),
      file,
    };
    const missing = [...split.train, ...split.val, ...split.test].filter((it) => !existsSync(it.path));
    if (missing.length) {
      throw new DatasetError(
        `${path} lists ${missing.length} image(s) not found under ${root} (e.g. ${missing[0].path}); pass the --data folder of the first run, or use a new --out`,
      );
    }
    return { split, reused: true };
  }
  const split = await makeSplit(root, ratios, seed);
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(split.file) + '\n'));
  return { split, reused: false };
}

export async function makeSplit(root: string, ratios: [number, number, number], seed: number): Promise<DataSplit> {
  if (!isDir(root)) throw new DatasetError(`${root}: folder not found`);
  let train: LabeledItem[];
  let val: LabeledItem[];
  let test: LabeledItem[];
  let classNames: string[];
  let source: SplitFile['source'];
  if (isDir(join(root, 'train')) && isDir(join(root, 'test'))) {
    const tr = await scanImageFolder(join(root, 'train'));
    classNames = tr.classNames;
    test = (await scanImageFolder(join(root, 'test'), classNames)).items;
    if (isDir(join(root, 'val'))) {
      source = 'folders';
      train = tr.items;
      val = (await scanImageFolder(join(root, 'val'), classNames)).items;
    } else {
      // No val/ folder: hold out val / (train + val) of each class of train/.
      source = 'folders+val';
      [train, val] = stratifiedSplit(tr.items, classNames.length, [ratios[0], ratios[1]], seed);
    }
  } else {
    if (isDir(join(root, 'train')) || isDir(join(root, 'val'))) {
      throw new DatasetError(
        `${root}: found a train/ or val/ folder but no test/; give train/, val/ and test/ folders, or one folder per class`,
      );
    }
    const ds = await scanImageFolder(root);
    classNames = ds.classNames;
    source = 'split';
    [train, val, test] = stratifiedSplit(ds.items, classNames.length, ratios, seed);
  }
  const file: SplitFile = {
    format: 'cytotune-split/1',
    source,
    ratios: source === 'folders' ? null : ratios,
    seed: source === 'folders' ? null : seed,
    classNames,
    train: toFile(root, train),
    val: toFile(root, val),
    test: toFile(root, test),
  };
  if (test.length === 0) throw new DatasetError(`${root}: the test split is empty; add images or raise the test ratio of --split`);
  return { root, classNames, train, val, test, file };
}
