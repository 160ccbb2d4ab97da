// Imports images and slides into a project. Each file is committed in its own transaction
// (image, thumbnail, whole-image label, audit entry), so a crash mid-import keeps every
// file whose import had completed and nothing half-written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ImportProgress } from '../../shared/api';
import type { ImportSummary } from '../../shared/domain';
import { decodeImageBytes } from '../../slides/decodeImage';
import { planImport, type ImportItem } from './importFiles';
import type { Project } from '../project/project';
import { describeSlide } from './slideProbe';
import { fromRgb } from '../../slides/sharpRgb';

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

async function prepareImage(path: string): Promise<Prepared> {
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
    commitItem(project, item, prepared, summary);
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
    if (item.className !== null) {
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

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Decoders prefix the path; the summary already names the file.
  return message.replace(/^.*?: (?=[^/])/, '').split('\n')[0] || 'unreadable';
}
