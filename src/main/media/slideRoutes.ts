// The Deep Zoom URL layout OpenSeadragon's DZI tile source expects, shared by both adapters
// (HTTP route in browser mode, custom protocol in Electron) so they refuse the same requests:
//   /slides/<imageId>.dzi
//   /slides/<imageId>_files/<level>/<col>_<row>.jpeg
// Anything else, and anything the tile service reports as not found, is a 404 with no detail.
import { SlideOpenError, SlideReadError } from '../../slides/types';
import { TileNotFoundError, type TileService } from '../../slides/tileService';

export type SlideRequest = { kind: 'dzi'; imageId: string } | { kind: 'tile'; imageId: string; level: number; col: number; row: number };

const DZI = /^\/slides\/([A-Za-z0-9_-]{1,128})\.dzi$/;
const TILE = /^\/slides\/([A-Za-z0-9_-]{1,128})_files\/(\d{1,3})\/(\d{1,7})_(\d{1,7})\.jpeg$/;

/** Parse a URL path (no query string, not percent-decoded: encoded slashes or dots never match). */
export function parseSlideRequest(pathname: string): SlideRequest | null {
  const d = DZI.exec(pathname);
  if (d) return { kind: 'dzi', imageId: d[1] };
  const t = TILE.exec(pathname);
  if (t) return { kind: 'tile', imageId: t[1], level: Number(t[2]), col: Number(t[3]), row: Number(t[4]) };
  return null;
}

export interface SlideResponse {
  status: 200 | 404 | 500;
  contentType: string;
  body: Buffer | string;
  /** Tiles never change for an id; the descriptor may after a relink. */
  cacheControl: string;
}

const notFound: SlideResponse = { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found', cacheControl: 'no-store' };

export async function serveSlideRequest(service: TileService, pathname: string): Promise<SlideResponse> {
  const req = parseSlideRequest(pathname);
  if (!req) return notFound;
  try {
    if (req.kind === 'dzi') {
      return { status: 200, contentType: 'application/xml', body: await service.getDzi(req.imageId), cacheControl: 'no-cache' };
    }
    const jpeg = await service.getTile(req.imageId, req.level, req.col, req.row);
    return { status: 200, contentType: 'image/jpeg', body: jpeg, cacheControl: 'private, max-age=3600' };
  } catch (err) {
    if (err instanceof TileNotFoundError) return notFound;
    if (err instanceof SlideOpenError || err instanceof SlideReadError) {
      // The path stays in the server log, not in the response.
      return {
        status: 500,
        contentType: 'text/plain; charset=utf-8',
        body: `slide unreadable: ${err.reason.split(err.path).join('<file>')}`,
        cacheControl: 'no-store',
      };
    }
    throw err;
  }
}
