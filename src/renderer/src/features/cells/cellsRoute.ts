// The cells screen lives in the URL hash too, so a reload returns to the same view:
//   #/cells/sort                 the cell sorter (detected cells of the chosen slides)
//   #/cells/gallery/image/12/run/3   the top cells of slide 12 for run 3's score
//   #/cells/cases/run/3          every slide with its slide score and review
//   #/cells/review/run/3         the least certain cells of all slides (active learning)
export type CellsView = 'sort' | 'gallery' | 'cases' | 'review';
export const CELLS_VIEWS: readonly CellsView[] = ['sort', 'gallery', 'cases', 'review'];

export interface CellsRoute {
  screen: 'cells';
  view: CellsView;
  imageId: number | null;
  runId: number | null;
}

export function parseCellsRoute(hash: string): CellsRoute | null {
  const m = /^#\/cells(?:\/(sort|gallery|cases|review))?(?:\/image\/(\d+))?(?:\/run\/(\d+))?$/.exec(hash);
  if (!m) return null;
  return {
    screen: 'cells',
    view: (m[1] as CellsView | undefined) ?? 'sort',
    imageId: m[2] ? Number(m[2]) : null,
    runId: m[3] ? Number(m[3]) : null,
  };
}

export function cellsHash(r: CellsRoute): string {
  return `#/cells/${r.view}${r.imageId ? `/image/${r.imageId}` : ''}${r.runId ? `/run/${r.runId}` : ''}`;
}
