// Pixels the UI shows, addressed by database id and never by file path: Deep Zoom
// descriptors and tiles, label patches, import thumbnails. Both adapters (the HTTP server
// and Electron's cytotune: protocol) answer through this one function, so they refuse the
// same requests.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveSlideRequest, type SlideResponse } from './slideRoutes';
import { TileNotFoundError, TileService } from '../../slides/tileService';
import { patchThumbnail } from '../../slides/patches';
import type { Project } from '../project/project';
import type { Workspace } from '../api/workspace';
import { labelBoxProblem } from '../../shared/labelBounds';
import { boxAround } from '../../shared/boxGeometry';

const notFound: SlideResponse = { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found', cacheControl: 'no-store' };
const patchSize = 128;
const DECIMAL_ID = /^[1-9][0-9]{0,11}$/;

/** `signal` aborts when the client went away (queued tile renders are then dropped). */
export type MediaRoutes = (pathname: string, signal?: AbortSignal) => Promise<SlideResponse | null>;

export function createMediaRoutes(workspace: Workspace): MediaRoutes {
  // One tile service per open project: image ids are only meaningful inside a project.
  let service: { project: Project; tiles: TileService } | null = null;
  const tilesFor = (project: Project): TileService => {
    if (service?.project !== project) {
      service?.tiles.close();
      service = {
        project,
        // Ids are the database's decimal integers: '0x2df', '1e3' or '007' name no image.
        tiles: new TileService({ resolvePath: (id) => (DECIMAL_ID.test(id) ? project.images.get(Number(id))?.path : undefined) }),
      };
    }
    return service.tiles;
  };

  return async (pathname, signal) => {
    const project = workspace.currentProject;
    if (pathname.startsWith('/slides/')) return project ? serveSlideRequest(tilesFor(project), pathname, signal) : notFound;

    const thumb = /^\/thumbnails\/([1-9]\d{0,11})\.jpg$/.exec(pathname);
    if (thumb) {
      const jpeg = project?.images.thumbnail(Number(thumb[1]));
      return jpeg ? { status: 200, contentType: 'image/jpeg', body: jpeg, cacheControl: 'private, max-age=3600' } : notFound;
    }

    // Experiment figures: only the file names the job itself reported, inside its folder.
    const figure = /^\/experiments\/([1-9]\d{0,11})\/([A-Za-z0-9_-]{1,64}\.(png|svg))$/.exec(pathname);
    if (figure) {
      const job = project?.jobs.get(Number(figure[1]));
      const result = job?.kind === 'experiment' ? job.result : null;
      if (!result?.outDir || !result.figures?.includes(figure[2])) return notFound;
      const body = await readFile(join(result.outDir, figure[2])).catch(() => null);
      return body
        ? { status: 200, contentType: figure[3] === 'png' ? 'image/png' : 'image/svg+xml', body, cacheControl: 'no-cache' }
        : notFound;
    }

    const patch = /^\/patches\/([1-9]\d{0,11})\.jpg$/.exec(pathname);
    if (patch) {
      const label = project?.annotations.get(Number(patch[1]));
      if (!project || !label) return notFound;
      // A label from before boxes were bounded (reported on open) has no patch to show.
      const image = project.images.get(label.imageId);
      if (!image || labelBoxProblem(label.box, image)) return notFound;
      try {
        const jpeg = await tilesFor(project).withSlide(String(label.imageId), (s) => patchThumbnail(s.reader, label.box, patchSize));
        // Moving a label changes its pixels: let the browser revalidate.
        return { status: 200, contentType: 'image/jpeg', body: jpeg, cacheControl: 'no-cache' };
      } catch (err) {
        if (err instanceof TileNotFoundError) return notFound;
        // The reason goes to the log; the response never names a file path.
        console.error(`[cytotune] patch ${label.id} unreadable:`, (err as Error).message);
        return { status: 500, contentType: 'text/plain; charset=utf-8', body: 'patch unreadable', cacheControl: 'no-store' };
      }
    }

    // A detected cell: the patch a label on it would hold (the project's patch size, centred on the cell).
    const cell = /^\/cells\/([1-9]\d{0,11})\.jpg$/.exec(pathname);
    if (cell) {
      const c = project?.cells.cell(Number(cell[1]));
      const image = c && project?.images.get(c.imageId);
      if (!project || !c || !image) return notFound;
      const box = boxAround(c, project.settings.get().patchSize, image.width, image.height);
      try {
        const jpeg = await tilesFor(project).withSlide(String(c.imageId), (s) => patchThumbnail(s.reader, box, patchSize));
        // The patch size may change: let the browser revalidate.
        return { status: 200, contentType: 'image/jpeg', body: jpeg, cacheControl: 'no-cache' };
      } catch (err) {
        if (err instanceof TileNotFoundError) return notFound;
        console.error(`[cytotune] cell ${c.id} unreadable:`, (err as Error).message);
        return { status: 500, contentType: 'text/plain; charset=utf-8', body: 'cell unreadable', cacheControl: 'no-store' };
      }
    }
    return null;
  };
}
