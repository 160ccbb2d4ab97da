// Finds what an import of some paths means: single files, folders of unlabelled images,
// and labelled folders in the ImageFolder layout <root>/<class>/<image>.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { slideExtensions } from '../../slides/slideKind';
import type { ImageKind } from '../../shared/domain';

export const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp']);

export interface ImportItem {
  path: string;
  kind: ImageKind;
  /** Class name from the ImageFolder layout, or null for an unlabelled image. */
  className: string | null;
}

export interface ImportPlan {
  items: ImportItem[];
  /** Paths given that do not exist or are not images, with the reason. */
  problems: { path: string; reason: string }[];
  /** Symbolic links followed (to image files or class folders), as they are named in the tree. */
  links: string[];
}

export function kindOfFile(path: string): ImageKind | null {
  const ext = extname(path).toLowerCase();
  if (slideExtensions.has(ext)) return 'slide';
  if (imageExtensions.has(ext)) return 'image';
  return null;
}

const isHidden = (name: string) => name.startsWith('.');
const NOT_REGULAR = 'not a regular file or folder (a device, FIFO or socket): skipped';
const byName = (a: Dirent, b: Dirent) => a.name.localeCompare(b.name, undefined, { numeric: true });

/**
 * What a folder entry is, following symbolic links as training's ImageFolder scan does (a
 * dataset assembled from links is a dataset); broken links and non-regular files are problems.
 */
async function entryKind(full: string, e: Dirent, plan: ImportPlan): Promise<'file' | 'dir' | null> {
  let isFile = e.isFile();
  let isDir = e.isDirectory();
  const isLink = e.isSymbolicLink();
  if (isLink) {
    try {
      const st = await stat(full);
      isFile = st.isFile();
      isDir = st.isDirectory();
      if (!isFile && !isDir) {
        if (kindOfFile(e.name)) plan.problems.push({ path: full, reason: NOT_REGULAR });
        return null;
      }
    } catch {
      if (kindOfFile(e.name) || !extname(e.name))
        plan.problems.push({ path: full, reason: 'broken symbolic link (its target does not exist)' });
      return null;
    }
  }
  if (isFile) {
    if (!kindOfFile(e.name)) return null;
    if (isLink) plan.links.push(full);
    return 'file';
  }
  if (isDir) return 'dir';
  if (kindOfFile(e.name)) plan.problems.push({ path: full, reason: NOT_REGULAR });
  return null;
}

async function readFolder(dir: string, plan: ImportPlan): Promise<Dirent[] | null> {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort(byName);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    plan.problems.push({
      path: dir,
      reason: code === 'EACCES' ? 'permission denied' : `cannot read this folder (${code ?? (err as Error).message})`,
    });
    return null;
  }
}

/** Image files at any depth under `dir`; `ancestors` (real paths) end a folder link that loops. */
async function imagesUnder(dir: string, plan: ImportPlan, ancestors: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const entries = await readFolder(dir, plan);
  if (!entries) return out;
  for (const e of entries) {
    if (isHidden(e.name)) continue;
    const full = join(dir, e.name);
    const kind = await entryKind(full, e, plan);
    if (kind === 'file') out.push(full);
    else if (kind === 'dir') {
      const files = await followFolder(full, e, plan, ancestors);
      if (files) out.push(...files);
    }
  }
  return out;
}

async function followFolder(full: string, e: Dirent, plan: ImportPlan, ancestors: Set<string>): Promise<string[] | null> {
  const real = await realpath(full).catch(() => full);
  if (ancestors.has(real)) {
    plan.problems.push({ path: full, reason: 'symbolic link loop (a folder that contains itself): skipped' });
    return null;
  }
  if (e.isSymbolicLink()) plan.links.push(full);
  return imagesUnder(full, plan, new Set([...ancestors, real]));
}

/**
 * A folder's direct image files are unlabelled; each sub-folder holding images is a class
 * (ImageFolder), its images (at any depth below it) labelled with the sub-folder's name.
 * A path that cannot be read is listed with its reason; it never costs the other paths.
 */
export async function planImport(paths: string[]): Promise<ImportPlan> {
  const plan: ImportPlan = { items: [], problems: [], links: [] };
  for (const given of paths) {
    const path = resolve(given);
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      plan.problems.push({ path, reason: code === 'EACCES' ? 'permission denied' : 'not found' });
      continue;
    }
    if (info.isFile()) {
      const kind = kindOfFile(path);
      if (kind) plan.items.push({ path, kind, className: null });
      else plan.problems.push({ path, reason: `not a supported image or slide (${extname(path) || 'no extension'})` });
      continue;
    }
    if (!info.isDirectory()) {
      plan.problems.push({ path, reason: NOT_REGULAR });
      continue;
    }
    const entries = await readFolder(path, plan);
    if (!entries) continue;
    const root = new Set([await realpath(path).catch(() => path)]);
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const full = join(path, e.name);
      const kind = await entryKind(full, e, plan);
      if (kind === 'file') plan.items.push({ path: full, kind: kindOfFile(e.name)!, className: null });
      else if (kind === 'dir') {
        for (const file of (await followFolder(full, e, plan, root)) ?? []) {
          plan.items.push({ path: file, kind: kindOfFile(file)!, className: basename(full) });
        }
      }
    }
  }
  return plan;
}
