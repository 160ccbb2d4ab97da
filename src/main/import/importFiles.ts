// Finds what an import of some paths means: single files, folders of unlabelled images,
// and labelled folders in the ImageFolder layout <root>/<class>/<image>.
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { ImageKind } from '../../shared/domain';

export const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp', '.webp']);
export const slideExtensions = new Set(['.svs', '.ndpi', '.mrxs', '.scn', '.vms', '.vmu', '.bif', '.svslide']);

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
}

export function kindOfFile(path: string): ImageKind | null {
  const ext = extname(path).toLowerCase();
  if (slideExtensions.has(ext)) return 'slide';
  if (imageExtensions.has(ext)) return 'image';
  return null;
}

const isHidden = (name: string) => name.startsWith('.');

async function imagesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  for (const e of entries) {
    if (isHidden(e.name)) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imagesUnder(full)));
    else if (e.isFile() && kindOfFile(e.name)) out.push(full);
  }
  return out;
}

/**
 * A folder's direct image files are unlabelled; each sub-folder holding images is a class
 * (ImageFolder), its images (at any depth below it) labelled with the sub-folder's name.
 */
export async function planImport(paths: string[]): Promise<ImportPlan> {
  const plan: ImportPlan = { items: [], problems: [] };
  for (const given of paths) {
    const path = resolve(given);
    let info;
    try {
      info = await stat(path);
    } catch {
      plan.problems.push({ path, reason: 'not found' });
      continue;
    }
    if (info.isFile()) {
      const kind = kindOfFile(path);
      if (kind) plan.items.push({ path, kind, className: null });
      else plan.problems.push({ path, reason: `not a supported image or slide (${extname(path) || 'no extension'})` });
      continue;
    }
    const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name, undefined, { numeric: true }),
    );
    for (const e of entries) {
      if (isHidden(e.name)) continue;
      const full = join(path, e.name);
      if (e.isFile()) {
        const kind = kindOfFile(e.name);
        if (kind) plan.items.push({ path: full, kind, className: null });
      } else if (e.isDirectory()) {
        for (const file of await imagesUnder(full)) {
          plan.items.push({ path: file, kind: kindOfFile(file)!, className: basename(full) });
        }
      }
    }
  }
  return plan;
}
