// Which files `cytotune predict` classifies: images given or found under a folder, never a whole
// slide. A slide is gigapixels of many cells; one prediction for it is meaningless, so slides are
// refused with a line that says where slides are classified instead.
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isWholeSlide } from '../slides/slideKind';
import { failure } from './command';

const IMAGE_EXT = /\.(bmp|png|jpe?g|tiff?|webp)$/i;

/** Every image under `dir` (recursively, sorted), symbolic links included. */
export async function listImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    throw failure('not-found', `${dir}: folder not found`);
  }
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXT.test(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

export async function refuseWholeSlides(paths: string[]): Promise<void> {
  for (const p of paths) {
    if (await isWholeSlide(p)) {
      throw failure(
        'whole-slide',
        `${p} is a whole-slide image; predict takes cell or patch images. ` +
          'Classify slides per cell or patch in the workstation (`cytotune serve` opens it in a browser)',
      );
    }
  }
}

/**
 * Labels from an ImageFolder layout (DIR/<class>/...): each image's class index in the run's
 * `classNames`, or why there are none (no class folders, or a folder that is not a class).
 */
export function folderLabels(dir: string, paths: string[], classNames: string[]): { labels: number[] } | { reason: string | null } {
  const folders = paths.map((p) => {
    const parts = relative(dir, p).split(sep);
    return parts.length > 1 ? parts[0] : null;
  });
  if (folders.every((f) => f === null)) return { reason: null };
  const stranger = folders.find((f) => f === null || !classNames.includes(f));
  if (stranger !== undefined) {
    return {
      reason:
        stranger === null
          ? 'some images are not in a class folder'
          : `folder "${stranger}" is not one of the run's classes (${classNames.join(', ')})`,
    };
  }
  return { labels: folders.map((f) => classNames.indexOf(f!)) };
}
