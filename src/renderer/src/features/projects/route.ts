// The screen lives in the URL hash, so a reload returns to it:
//   #/            images and classes
//   #/train       models, runs, classification
//   #/image/12    labelling image 12
//   #/image/12/run/3   image 12 with run 3's predictions (heatmap, review queue)
//   #/cells/...   the cells screens (features/cells/cellsRoute.ts)
import { cellsHash, parseCellsRoute, type CellsRoute } from '../cells/cellsRoute';

export type Route = { screen: 'images' } | { screen: 'train' } | { screen: 'image'; imageId: number; runId: number | null } | CellsRoute;

export function parseRoute(hash: string): Route {
  const image = /^#\/image\/(\d+)(?:\/run\/(\d+))?$/.exec(hash);
  if (image) return { screen: 'image', imageId: Number(image[1]), runId: image[2] ? Number(image[2]) : null };
  if (hash === '#/train') return { screen: 'train' };
  const cells = parseCellsRoute(hash);
  if (cells) return cells;
  return { screen: 'images' };
}

export function routeHash(r: Route): string {
  if (r.screen === 'train') return '#/train';
  if (r.screen === 'cells') return cellsHash(r);
  if (r.screen === 'image') return `#/image/${r.imageId}${r.runId ? `/run/${r.runId}` : ''}`;
  return '#/';
}
