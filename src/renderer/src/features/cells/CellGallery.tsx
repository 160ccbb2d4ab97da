// The cells that matter on one slide: its top N cells (30 by default, as the reference product
// shows) ranked by the chosen score, as a grid with class and score, next to the slide. A click
// flies the slide to the cell; Enter accepts the prediction, a class key corrects it (both make
// a label), arrows move, O opens the cell in the labelling viewer.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ScoredCell } from '@shared/cells';
import type { ClassNode, RunRecord } from '@shared/domain';
import type { Box } from '@shared/image';
import { client, tileSourceUrl } from '../../api/client';
import { useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { SlideViewer, type SlideViewerHandle } from '../viewer/SlideViewer';
import { CellThumb } from './CellThumb';
import { gridShortcut, gridStep, useGridColumns } from './gridKeys';

interface Props {
  run: RunRecord;
  classes: ClassNode[];
  scoreClassId: number | null;
  imageId: number | null;
  version: number;
  onPickImage: (imageId: number) => void;
  onChanged: () => void;
  onOpenViewer: (imageId: number, box: Box | null, runId: number | null) => void;
}

const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;

export function CellGallery({ run, classes, scoreClassId, imageId, version, onPickImage, onChanged, onOpenViewer }: Props) {
  const flat = useMemo(() => flattenClassTree(classes).map((f) => f.node), [classes]);
  const classOf = useCallback((id: number | null) => flat.find((c) => c.id === id), [flat]);
  const [limit, setLimit] = useState(30);
  const [local, setLocal] = useState(0);
  const [focus, setFocus] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const scoreBy = scoreClassId === null ? null : [scoreClassId];
  const cases = useQuery('cases:list', scoreBy && { runId: run.id, classIds: scoreBy }, version);
  const classified = useMemo(
    () => (cases.value ?? []).filter((c) => c.classifiedCells > 0).sort((a, b) => (b.maxScore ?? 0) - (a.maxScore ?? 0)),
    [cases.value],
  );
  const slideId = imageId ?? classified[0]?.imageId ?? null;
  const image = useQuery('images:get', slideId === null ? null : { id: slideId });
  const gallery = useQuery(
    'cells:gallery',
    slideId === null || !scoreBy ? null : { runId: run.id, imageId: slideId, classIds: scoreBy, limit },
    version + local,
  );
  const cells: ScoredCell[] = useMemo(() => gallery.value?.cells ?? [], [gallery.value]);
  const current = cells[focus] as ScoredCell | undefined;
  const gridRef = useRef<HTMLDivElement>(null);
  const columns = useGridColumns(gridRef);
  const viewer = useRef<SlideViewerHandle>(null);

  useEffect(() => setFocus(0), [slideId, scoreClassId]);
  useEffect(() => {
    if (current) viewer.current?.flyTo(current.box);
    gridRef.current?.querySelector<HTMLElement>(`[data-index="${focus}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [current, focus]);

  const accept = useCallback(
    async (cell: ScoredCell, classId?: number) => {
      try {
        await client.call('predictions:accept', { predictionId: cell.predictionId, ...(classId ? { classId } : {}) });
        setProblem(null);
        setLocal((v) => v + 1);
        setFocus((f) => Math.min(cells.length - 1, f + 1));
        onChanged();
      } catch (e) {
        setProblem((e as Error).message);
      }
    },
    [cells.length, onChanged],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const id = gridShortcut(e);
      if (id === 'gridMove') {
        e.preventDefault();
        const step = gridStep(e.key, focus, cells.length, columns);
        return step !== null && setFocus(step);
      }
      if (!current) return;
      const cls = id === 'gridLabel' ? flat.find((c) => c.shortcut === e.key) : undefined;
      if (id === 'gridAccept' || cls) {
        e.preventDefault();
        void accept(current, cls?.id);
      } else if (id === 'gridOpen') {
        onOpenViewer(current.imageId, current.box, run.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [focus, cells.length, columns, current, flat, accept, onOpenViewer, run.id]);

  const overlay = useMemo(
    () => ({
      boxes: cells.map((c) => ({ id: c.predictionId, box: c.box, color: classOf(c.labelClassId ?? c.classId)?.color ?? '#ffffff' })),
      selectedId: current?.predictionId ?? null,
      draft: null,
      mpp: image.value?.mpp ?? null,
    }),
    [cells, current, classOf, image.value],
  );
  const counts = gallery.value?.counts ?? [];
  const total = counts.reduce((s, c) => s + c.count, 0);

  return (
    <div className="cells-body cells-gallery">
      <aside className="cells-side card" aria-label="Slide and counts">
        <h2>Slide</h2>
        <select
          data-testid="gallery-slide"
          value={slideId ?? ''}
          onChange={(e) => onPickImage(Number(e.target.value))}
          title={classified.find((c) => c.imageId === slideId)?.name}
        >
          {classified.length === 0 && <option value="">no classified slide</option>}
          {classified.map((c) => (
            <option key={c.imageId} value={c.imageId}>
              {c.name} ({c.maxScore === null ? '–' : c.maxScore.toFixed(2)})
            </option>
          ))}
        </select>
        <label className="row spaced">
          top{' '}
          <input
            type="number"
            className="small"
            min={5}
            max={500}
            value={limit}
            data-testid="gallery-limit"
            onChange={(e) => setLimit(Math.max(1, Math.min(1000, Number(e.target.value) || 30)))}
          />{' '}
          cells
        </label>
        <h2>Cells of this slide</h2>
        <ul className="plain cells-keys" data-testid="gallery-counts">
          {counts.map((c) => {
            const cls = classOf(c.classId);
            return (
              <li key={c.classId}>
                <span className="key">{cls?.shortcut ?? '·'}</span>
                <span className="dot" style={{ background: cls?.color }} />
                <span className="cells-name" title={cls?.name}>
                  {cls?.name ?? `class ${c.classId}`}
                </span>
                <b data-testid={`gallery-count-${cls?.name}`}>{c.count.toLocaleString()}</b>
                <span className="muted">{total ? `${Math.round((100 * c.count) / total)} %` : ''}</span>
              </li>
            );
          })}
        </ul>
        <p className="help muted">
          <b>Enter</b> accept · <b>1–9, 0</b> correct to that class · <b>arrows</b> move · <b>O</b> open in the viewer · a click shows the
          cell on the slide
        </p>
      </aside>
      <main className="cells-main">
        <ErrorBanner message={problem ?? gallery.error} onDismiss={() => setProblem(null)} />
        {slideId === null && <p className="muted">No slide has classified cells yet: classify the cells of all slides above.</p>}
        <div className="cell-grid" ref={gridRef} data-testid="gallery-grid">
          {cells.map((c, i) => {
            const predicted = classOf(c.classId);
            const labelled = c.labelClassId === null ? null : classOf(c.labelClassId);
            return (
              <CellThumb
                key={c.predictionId}
                index={i}
                cellId={c.cellId}
                testId={`gallery-cell-${i}`}
                focused={i === focus}
                color={labelled?.color ?? null}
                badge={labelled ? (c.labelClassId === c.classId ? `✓ ${labelled.name}` : `→ ${labelled.name}`) : null}
                caption={
                  <>
                    <span className="dot" style={{ background: predicted?.color }} /> {predicted?.name ?? '?'}{' '}
                    <b data-testid={`gallery-score-${i}`}>{c.score.toFixed(2)}</b>
                  </>
                }
                title={`#${i + 1}: ${predicted?.name} ${(100 * Math.max(...c.probabilities)).toFixed(0)} %, score ${c.score.toFixed(3)}`}
                onClick={() => setFocus(i)}
                onDoubleClick={() => onOpenViewer(c.imageId, c.box, run.id)}
              />
            );
          })}
        </div>
      </main>
      <section className="cells-viewer" aria-label="Slide">
        {image.value && (
          <>
            <div className="cells-viewer-bar">
              <span className="cells-name" title={image.value.path}>
                {fileName(image.value.path)}
              </span>
              <button
                className="link"
                data-testid="gallery-open-viewer"
                onClick={() => onOpenViewer(image.value!.id, current?.box ?? null, run.id)}
              >
                Open in viewer (O)
              </button>
            </div>
            <SlideViewer
              key={image.value.id}
              ref={viewer}
              tileSource={tileSourceUrl(image.value.id)}
              imageWidth={image.value.width}
              overlay={overlay}
              draftColor="#ffffff"
              onClick={() => {}}
              onDrawBox={() => {}}
              onMoveBox={() => {}}
              onOpened={() => current && viewer.current?.flyTo(current.box)}
            />
          </>
        )}
      </section>
    </div>
  );
}
