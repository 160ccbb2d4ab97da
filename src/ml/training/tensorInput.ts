// Pre-processed training inputs: an .npy batch [N, 3, S, S] of normalised float32 plus one label
// per row, so that another implementation (the PyTorch reference of scripts/training-equality)
// and CytoTune train on exactly the same tensors. Rows become items whose key names the file and
// row; the pipeline hands each row through unchanged (no resize, no augmentation).
import { readFileSync } from 'node:fs';
import { parseNpy } from '../checkpoint/npy';
import type { LabeledItem } from '../data/fewShot';
import type { ImagePipeline } from '../data/imagePipeline';
import type { RgbImage } from '../../shared/image';

export class TensorInputError extends Error {
  readonly kind = 'invalid-tensor-input';
}

export interface TensorInput {
  file: string;
  classNames: string[];
  items: LabeledItem[];
  /** Image size S of the rows. */
  size: number;
  /** Item key -> a stand-in image the pipeline below turns back into the row. */
  decode: (key: string) => Promise<RgbImage>;
  pipeline: ImagePipeline;
}

/**
 * Labels: a text file with one label per line, each a class name or an integer class index.
 * Integers name classes 0..max (as written); names are sorted as ImageFolder sorts folders.
 */
export function parseLabels(text: string, what: string): { classNames: string[]; labels: number[] } {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) throw new TensorInputError(`${what}: no labels (one class name or index per line)`);
  if (lines.every((l) => /^\d+$/.test(l))) {
    const labels = lines.map(Number);
    const count = Math.max(...labels) + 1;
    return { classNames: Array.from({ length: count }, (_, i) => String(i)), labels };
  }
  const classNames = [...new Set(lines)].sort();
  return { classNames, labels: lines.map((l) => classNames.indexOf(l)) };
}

export function readTensorInput(tensorFile: string, labelsFile: string, imageSize: number): TensorInput {
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TensorInputError(code === 'ENOENT' ? `${path}: file not found` : `${path}: ${(err as Error).message}`);
    }
  };
  let arr;
  try {
    arr = parseNpy(read(tensorFile), tensorFile);
  } catch (err) {
    if (err instanceof TensorInputError) throw err;
    throw new TensorInputError((err as Error).message);
  }
  const [n, c, h, w] = arr.shape;
  if (arr.shape.length !== 4 || c !== 3 || h !== imageSize || w !== imageSize) {
    throw new TensorInputError(
      `${tensorFile}: shape (${arr.shape.join(', ')}) but this model needs normalised float32 (N, 3, ${imageSize}, ${imageSize})`,
    );
  }
  const { classNames, labels } = parseLabels(read(labelsFile).toString('utf8'), labelsFile);
  if (labels.length !== n) throw new TensorInputError(`${labelsFile}: ${labels.length} labels for ${n} rows of ${tensorFile}`);
  if (classNames.length < 2) throw new TensorInputError(`${labelsFile}: only one class (${classNames[0]}); a classifier needs two`);
  const per = 3 * imageSize * imageSize;
  const keyOf = (i: number) => `${tensorFile}#${i}`;
  const rowOf = new Map(labels.map((_, i) => [keyOf(i), i]));
  // The stand-in carries no pixels: the pipeline looks its row up.
  const rows = new WeakMap<RgbImage, number>();
  const decode = (key: string): Promise<RgbImage> => {
    const row = rowOf.get(key);
    if (row === undefined) return Promise.reject(new TensorInputError(`${key}: not a row of ${tensorFile}`));
    const img: RgbImage = { data: new Uint8Array(0), width: imageSize, height: imageSize };
    rows.set(img, row);
    return Promise.resolve(img);
  };
  const described = { kind: 'tensor', size: imageSize, file: tensorFile, augment: false };
  const pipeline: ImagePipeline = {
    size: imageSize,
    describe: () => ({ ...described }),
    prepare: (img) => {
      const row = rows.get(img);
      if (row === undefined) throw new Error('tensor pipeline: image did not come from this input');
      return arr.data.slice(row * per, (row + 1) * per);
    },
  };
  return { file: tensorFile, classNames, size: imageSize, items: labels.map((label, i) => ({ path: keyOf(i), label })), decode, pipeline };
}
