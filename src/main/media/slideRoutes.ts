// The Deep Zoom URL layout OpenSeadragon's DZI tile source expects, shared by both adapters
// (HTTP route in browser mode, custom protocol in Electron) so they refuse the same requests:
//   /slides/<imageId>.dzi                                   DeepZoomGenerator's layout (254 + 1)
//   /slides/<imageId>_files/<level>/<col>_<row>.jpeg
//   /slides/<imageId>.native.dzi                            the slide's own tile grid, overlap 0,
//   /slides/<imageId>.native_files/<level>/<col>_<row>.jpeg   stored tiles passed through
// Anything else, and anything the tile service reports as not found, is a 404 with no detail.
// A request whose client went away (`signal` aborted) is answered 499 to nobody.
import { SlideOpenError, SlideReadError } from '../../slides/types';
import { TileAbortedError, TileNotFoundError, type TileService } from '../../slides/tileService';

/** `layout` is present only for the native layout. */
export type SlideRequest =
  | { kind: 'dzi'; imageId: string; layout?: 'native' }
  | { kind: 'tile'; imageId: string; level: number; col: number; row: number; layout?: 'native' };

const DZI = /^\/slides\/([A-Za-z0-9_-]{1,128})(\.native)?\.dzi$/;
const TILE = /^\/slides\/([A-Za-z0-9_-]{1,128})(\.native)?_files\/(\d{1,3})\/(\d{1,7})_(\d{1,7})\.jpeg$/;

/** Parse a URL path (no query string, not percent-decoded: encoded slashes or dots never match). */
export function parseSlideRequest(pathname: string): SlideRequest | null {
  const d = DZI.exec(pathname);
  if (d) return { kind: 'dzi', imageId: d[1], ...(d[2] ? { layout: 'native' as const } : {}) };
  const t = TILE.exec(pathname);
  if (t) {
    const tile = { kind: 'tile' as const, imageId: t[1], level: Number(t[3]), col: Number(t[4]), row: Number(t[5]) };
    return t[2] ? { ...tile, layout: 'native' } : tile;
  }
  return null;
}

export interface SlideResponse {
  status: 200 | 404 | 499 | 500;
  contentType: string;
  body: Buffer | string;
  /** Tiles never change for an id; the descriptor may after a relink. */
  cacheControl: string;
}

const notFound: SlideResponse = { status: 404, contentType: 'text/plain; charset=utf-8', body: 'not found', cacheControl: 'no-store' };

const abandoned: SlideResponse = {
  status: 499,
  contentType: 'text/plain; charset=utf-8',
  body: 'request abandoned',
  cacheControl: 'no-store',
};

export async function serveSlideRequest(service: TileService, pathname: string, signal?: AbortSignal): Promise<SlideResponse> {
  const req = parseSlideRequest(pathname);
  if (!req) return notFound;
  try {
    if (req.kind === 'dzi') {
      const dzi = await service.getDzi(req.imageId, { layout: req.layout });
      return { status: 200, contentType: 'application/xml', body: dzi, cacheControl: 'no-cache' };
    }
    const jpeg = await service.getTile(req.imageId, req.level, req.col, req.row, { layout: req.layout, signal });
    return { status: 200, contentType: 'image/jpeg', body: jpeg, cacheControl: 'private, max-age=3600' };
  } catch (err) {
    if (err instanceof TileNotFoundError) return notFound;
    if (err instanceof TileAbortedError) return abandoned;
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
