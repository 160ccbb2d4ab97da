// ImageFolder datasets: <root>/<class>/<image>. Classes are the sub-folders in sorted order
// (as torchvision's ImageFolder), images sorted by name so every seed means the same subset.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabeledItem } from './fewShot';

const IMAGE_EXT = /\.(bmp|png|jpe?g|tiff?|webp)$/i;

export class DatasetError extends Error {
  readonly kind = 'invalid-dataset';
}

export interface ImageFolderDataset {
  root: string;
  classNames: string[];
  items: LabeledItem[];
}

/**
 * `classNames` fixes the label order (e.g. a validation folder must use the training classes);
 * folders not in it are an error, classes missing from the folder are allowed.
 */
export async function scanImageFolder(root: string, classNames?: string[]): Promise<ImageFolderDataset> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(code === 'ENOENT' ? `${root}: folder not found` : `${root}: ${(err as Error).message}`);
  }
  const found: string[] = [];
  for (const e of entries) if (!e.name.startsWith('.') && (await isKind(join(root, e.name), e, 'dir'))) found.push(e.name);
  found.sort();
  const names = classNames ?? found;
  if (classNames) {
    const unknown = found.filter((f) => !classNames.includes(f));
    if (unknown.length)
      throw new DatasetError(
        `${root}: class folder(s) ${unknown.join(', ')} are not among the training classes (${classNames.join(', ')})`,
      );
  }
  if (names.length < 2 && !classNames)
    throw new DatasetError(`${root}: expected one sub-folder per class (at least 2), found ${found.length}`);
  const items: LabeledItem[] = [];
  for (const cls of found) {
    const files: string[] = [];
    for (const f of await readdir(join(root, cls), { withFileTypes: true })) {
      if (IMAGE_EXT.test(f.name) && (await isKind(join(root, cls, f.name), f, 'file'))) files.push(f.name);
    }
    files.sort();
    for (const f of files) items.push({ path: join(root, cls, f), label: names.indexOf(cls) });
  }
  if (items.length === 0) throw new DatasetError(`${root}: no images (bmp, png, jpg, tif, webp) in the class folders`);
  return { root, classNames: names, items };
}

/** Follows symbolic links (datasets are often assembled from links to the originals). */
async function isKind(
  path: string,
  e: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean },
  kind: 'file' | 'dir',
): Promise<boolean> {
  if (!e.isSymbolicLink()) return kind === 'file' ? e.isFile() : e.isDirectory();
  try {
    const st = await stat(path);
    return kind === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return false; // dangling link
  }
}
