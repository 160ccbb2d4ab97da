// Imports images and slides into a project. Each file is committed in its own transaction
// (image, thumbnail, whole-image label, audit entry), so a crash mid-import keeps every
// file whose import had completed and nothing half-written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ApiError, type ImportProgress } from '../../shared/api';
import { failureOf, StorageError, type StorageFailureKind } from '../db/storageErrors';
import type { ImportSummary } from '../../shared/domain';
import { decodeImageBytes } from '../../slides/decodeImage';
import { planImport, type ImportItem } from './importFiles';
import type { Project } from '../project/project';
import { describeSlide } from './slideProbe';
import { fromRgb } from '../../slides/sharpRgb';
import { isWholeSlide } from '../../slides/slideKind';

const thumbnailSize = 128;
const progressIntervalMs = 250;

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface Prepared {
  sha256: string;
  width: number;
  height: number;
  mpp: number | null;
  thumbnail: Buffer;
}

/** A plain image is decoded whole: a file larger than this is no plain image (a pixel bomb, a mislabelled slide). */
const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;

async function prepareImage(path: string): Promise<Prepared> {
  const { size } = await stat(path);
  if (size > MAX_IMAGE_FILE_BYTES)
    throw new Error(`${Math.round(size / 2 ** 20)} MB is too large for a plain image; open large scans as slides`);
  const bytes = await readFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const rgb = await decodeImageBytes(bytes, path);
  const thumbnail = await fromRgb(rgb)
    .resize(thumbnailSize, thumbnailSize, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
  return { sha256, width: rgb.width, height: rgb.height, mpp: null, thumbnail };
}

async function prepareSlide(path: string): Promise<Prepared> {
  const sha256 = await sha256OfFile(path);
  return { sha256, ...(await describeSlide(path, thumbnailSize)) };
}

export async function importPaths(
  project: Project,
  paths: string[],
  onProgress: (p: ImportProgress) => void = () => {},
): Promise<ImportSummary> {
  const plan = await planImport(paths);
  const summary: ImportSummary = {
    added: 0,
    duplicates: 0,
    duplicatePaths: [],
    unreadable: [...plan.problems],
    classesCreated: [],
    links: [...plan.links],
    notes: [],
    labelled: 0,
  };
  const seen = new Set<string>();
  let lastReport = 0;
  const report = (done: number, current: string, force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < progressIntervalMs) return;
    lastReport = now;
    onProgress({
      done,
      total: plan.items.length,
      added: summary.added,
      duplicates: summary.duplicates,
      unreadable: summary.unreadable.length,
      current,
    });
  };

  for (let i = 0; i < plan.items.length; i++) {
    const item = plan.items[i];
    report(i, item.path);
    let prepared: Prepared;
    try {
      // A tiled TIFF is a whole slide (read by region), whatever its extension says.
      if (item.kind === 'image' && (await isWholeSlide(item.path))) item.kind = 'slide';
      prepared = item.kind === 'slide' ? await prepareSlide(item.path) : await prepareImage(item.path);
    } catch (err) {
      summary.unreadable.push({ path: item.path, reason: reasonOf(err) });
      continue;
    }
    if (seen.has(prepared.sha256) || project.images.findBySha256(prepared.sha256)) {
      summary.duplicates++;
      summary.duplicatePaths.push(item.path);
      continue;
    }
    seen.add(prepared.sha256);
    try {
      commitItem(project, item, prepared, summary);
    } catch (err) {
      const failure = failureOf(err);
      // A full disk or a busy project stops the import: say what is committed, which is whole.
      if (failure) throw stopped(failure, err as Error, summary, plan.items.length);
      if (!(err instanceof ApiError)) throw err;
      summary.unreadable.push({ path: item.path, reason: err.message });
    }
  }
  report(plan.items.length, '', true);
  return summary;
}

function commitItem(project: Project, item: ImportItem, prepared: Prepared, summary: ImportSummary): void {
  project.transaction(() => {
    const image = project.images.insert({
      kind: item.kind,
      path: item.path,
      sha256: prepared.sha256,
      width: prepared.width,
      height: prepared.height,
      mpp: prepared.mpp,
    });
    project.images.putThumbnail(image.id, prepared.thumbnail);
    project.audit.record({ action: 'image.import', entity: 'image', entityId: image.id, after: image });
    if (item.className !== null && item.kind === 'slide') {
      summary.notes.push(
        `${item.path}: a slide in class folder "${item.className}" was imported unlabelled (a whole slide is not one cell); label its cells in the viewer.`,
      );
    } else if (item.className !== null) {
      const { record, created } = project.ensureTopLevelClass(item.className);
      if (created) summary.classesCreated.push(record.name);
      // An ImageFolder image is one cell: its label covers the whole image.
      project.createAnnotation({
        imageId: image.id,
        classId: record.id,
        box: { x: 0, y: 0, w: image.width, h: image.height },
        source: 'import',
      });
      summary.labelled++;
    }
  });
  summary.added++;
}

function stopped(failure: StorageFailureKind, err: Error, summary: ImportSummary, total: number): ApiError {
  const done = `${summary.added} of ${total} file${total === 1 ? ' was' : 's were'} imported`;
  const kept = 'each whole; importing the same paths again skips them and adds the rest.';
  if (failure === 'disk-full') return new StorageError(failure, `The disk is full: ${done}, ${kept} Free some space and import again.`);
  if (failure === 'busy') return new StorageError(failure, `The project is busy in another CytoTune process: ${done}, ${kept}`);
  return new StorageError(failure, `${err.message} ${done}, ${kept}`);
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Decoders prefix the path; the summary already names the file.
  return message.replace(/^.*?: (?=[^/])/, '').split('\n')[0] || 'unreadable';
}
