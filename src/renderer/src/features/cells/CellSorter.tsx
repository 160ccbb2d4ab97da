// The cell sorter ("fetch cells into bins", as CellProfiler Analyst): the detected cells of one
// or several slides as a grid of cell-centred thumbnails; a class's number key labels the
// focused cell and moves on, arrows move, Delete unlabels, Ctrl+Z undoes. 8-16 cells per class
// take minutes this way.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { CellRecord } from '@shared/cells';
import type { ClassNode, ImageSummary, ProjectSettings } from '@shared/domain';
import type { Box } from '@shared/image';
import { client } from '../../api/client';
import { useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { CellThumb } from './CellThumb';
import { gridShortcut, gridStep, useGridColumns } from './gridKeys';
import { cellPatch, useCellLabels } from './useCellLabels';

type Order = 'random' | 'area' | 'od';
const BATCH = 48;
/** Cells fetched per slide: plenty to sort from, light enough for the browser. */
const PER_SLIDE = 20_000;
const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;

/** A deterministic shuffle (mulberry32), so the same seed shows the same cells again. */
function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Props {
  classes: ClassNode[];
  settings: ProjectSettings;
  version: number;
  initialImageId: number | null;
  onChanged: () => void;
  onOpenViewer: (imageId: number, box: Box | null, runId: number | null) => void;
}

export function CellSorter({ classes, settings, version, initialImageId, onChanged, onOpenViewer }: Props) {
  const flat = useMemo(() => flattenClassTree(classes), [classes]);
  const images = useQuery('images:list', { limit: 5000 }, version);
  const slides = useMemo(() => (images.value ?? []).filter((i) => i.kind === 'slide'), [images.value]);
  const byId = useMemo(() => new Map<number, ImageSummary>(slides.map((s) => [s.id, s])), [slides]);
  const [counts, setCounts] = useState<Map<number, number | null>>(new Map());
  const [chosen, setChosen] = useState<number[] | null>(initialImageId ? [initialImageId] : null);
  const [order, setOrder] = useState<Order>('random');
  const [seed, setSeed] = useState(1);
  const [onlyUnlabelled, setOnlyUnlabelled] = useState(true);
  const [pool, setPool] = useState<CellRecord[]>([]);
  const [offset, setOffset] = useState(0);
  const [focus, setFocus] = useState(0);
  const [loading, setLoading] = useState(false);
  const labels = useCellLabels(onChanged);
  const gridRef = useRef<HTMLDivElement>(null);
  const columns = useGridColumns(gridRef);

  // Cells per slide of its newest completed detection (null: none yet).
  const slideKey = slides.map((s) => s.id).join(',');
  useEffect(() => {
    let on = true;
    void Promise.all(slides.map((s) => client.call('cells:runs', { imageId: s.id }))).then((runs) => {
      if (!on) return;
      setCounts(new Map(slides.map((s, i) => [s.id, runs[i].find((r) => r.status === 'completed')?.cellCount ?? null])));
    });
    return () => {
      on = false;
    };
    // slideKey stands for the slides' ids.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slideKey, version]);
  const detected = slides.filter((s) => (counts.get(s.id) ?? 0) > 0);
  const selected = chosen ?? detected.map((s) => s.id);
  const selectedKey = selected.join(',');

  // Fetch the cells of the chosen slides and their labels; the order is fixed per fetch.
  const { load, labelOf } = labels;
  useEffect(() => {
    const ids = selectedKey ? selectedKey.split(',').map(Number) : [];
    let on = true;
    setLoading(true);
    void Promise.all([Promise.all(ids.map((imageId) => client.call('cells:list', { imageId, limit: PER_SLIDE }))), load(ids)])
      .then(([lists]) => {
        if (!on) return;
        const all = lists.flat();
        const sorted =
          order === 'random'
            ? shuffled(all, seed)
            : [...all].sort((a, b) => (order === 'area' ? b.areaUm2 - a.areaUm2 : b.meanOd - a.meanOd) || a.id - b.id);
        setPool(sorted);
        setOffset(0);
        setFocus(0);
      })
      .finally(() => on && setLoading(false));
    return () => {
      on = false;
    };
  }, [selectedKey, order, seed, load]);

  // Unlabelled-only is applied when a batch is taken, so cells labelled now stay in view.
  const [taken, setTaken] = useState<CellRecord[]>([]);
  const candidates = useMemo(() => pool.filter((c) => !onlyUnlabelled || !labelOf(c)), [pool, onlyUnlabelled, labelOf]);
  const takeKey = `${pool.length}:${pool[0]?.id}:${offset}:${onlyUnlabelled}`;
  useEffect(() => {
    setTaken(candidates.slice(offset, offset + BATCH));
    setFocus(0);
    // Only a new fetch, page or filter takes a new batch (not every label).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [takeKey]);

  const current = taken[focus];
  const onKey = useCallback(
    (e: KeyboardEvent) => {
      const id = gridShortcut(e);
      if (id === 'gridUndo') {
        e.preventDefault();
        void labels.undo();
        return;
      }
      if (id === 'gridMove') {
        const step = gridStep(e.key, focus, taken.length, columns);
        if (step !== null) setFocus(step);
        e.preventDefault();
        return;
      }
      if (!current) return;
      const cls = id === 'gridLabel' ? flat.find((f) => f.node.shortcut === e.key)?.node : undefined;
      const image = byId.get(current.imageId);
      if (cls && image) {
        e.preventDefault();
        void labels.label(current, cls.id, settings.patchSize, image);
        setFocus((f) => Math.min(taken.length - 1, f + 1));
      } else if (id === 'gridUnlabel') {
        e.preventDefault();
        void labels.unlabel(current);
      } else if (id === 'gridOpen') {
        onOpenViewer(current.imageId, image ? cellPatch(current, settings.patchSize, image) : current.box, null);
      }
    },
    [focus, taken.length, columns, current, flat, byId, labels, settings.patchSize, onOpenViewer],
  );
  useEffect(() => {
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onKey]);
  useEffect(() => {
    gridRef.current?.querySelector<HTMLElement>(`[data-index="${focus}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [focus]);

  const classOf = (id: number | undefined) => flat.find((f) => f.node.id === id)?.node;
  const toggle = (id: number, on: boolean) => setChosen(on ? [...selected, id] : selected.filter((x) => x !== id));

  return (
    <div className="cells-body">
      <aside className="cells-side card" aria-label="Cells to sort">
        <h2>Slides</h2>
        <ul className="plain cells-slides">
          {slides.map((s) => {
            const n = counts.get(s.id);
            return (
              <li key={s.id}>
                <label title={s.path}>
                  <input
                    type="checkbox"
                    data-testid={`sorter-slide-${s.id}`}
                    disabled={!n}
                    checked={selected.includes(s.id)}
                    onChange={(e) => toggle(s.id, e.target.checked)}
                  />
                  <span className="cells-name">{fileName(s.path)}</span>
                  <span className="muted" title={n && n > PER_SLIDE ? `the sorter takes ${PER_SLIDE.toLocaleString()} of them` : undefined}>
                    {n === undefined ? '…' : n === null ? 'not detected' : `${n.toLocaleString()} cells`}
                  </span>
                </label>
              </li>
            );
          })}
          {slides.length === 0 && <li className="muted">No slides in this project.</li>}
        </ul>
        {slides.length > 0 && detected.length === 0 && (
          <p className="muted">No cells detected yet: open a slide and use “Detect cells” in its side panel.</p>
        )}
        <h2>Order</h2>
        <div className="col">
          <select data-testid="sorter-order" value={order} onChange={(e) => setOrder(e.target.value as Order)}>
            <option value="random">random</option>
            <option value="area">largest nucleus first</option>
            <option value="od">darkest nucleus first</option>
          </select>
          <label>
            <input type="checkbox" checked={onlyUnlabelled} onChange={(e) => setOnlyUnlabelled(e.target.checked)} /> only unlabelled cells
          </label>
          {order === 'random' && <button onClick={() => setSeed((s) => s + 1)}>Shuffle</button>}
        </div>
        <h2>Classes</h2>
        <ul className="plain cells-keys">
          {flat.map(({ node, level }) => (
            <li key={node.id} style={{ paddingLeft: (level - 1) * 10 }}>
              <span className="key">{node.shortcut ?? '·'}</span>
              <span className="dot" style={{ background: node.color }} />
              <span className="cells-name" title={node.name}>
                {node.name}
              </span>
              <b data-testid={`sorter-count-${node.name}`}>{node.labelCount}</b>
              <span className="muted">/{settings.shotTarget}</span>
            </li>
          ))}
        </ul>
        <p className="help muted">
          <b>1–9, 0</b> label the focused cell and move on · <b>arrows</b> move · <b>Delete</b> unlabel · <b>Ctrl+Z</b> undo · <b>O</b> or
          double-click: open in the viewer
        </p>
      </aside>
      <main className="cells-main">
        <div className="row spaced">
          <span data-testid="sorter-range">
            {loading
              ? 'Loading cells…'
              : candidates.length
                ? `Cells ${offset + 1}–${offset + taken.length} of ${candidates.length.toLocaleString()}${onlyUnlabelled ? ' unlabelled' : ''}`
                : 'No cells to show.'}
          </span>
          <span className="spacer" />
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - BATCH))}>
            Previous
          </button>
          <button data-testid="sorter-next" disabled={offset + BATCH >= candidates.length} onClick={() => setOffset(offset + BATCH)}>
            Next {BATCH}
          </button>
        </div>
        <ErrorBanner message={labels.error} onDismiss={labels.clearError} />
        <div className="cell-grid" ref={gridRef} data-testid="sorter-grid">
          {taken.map((c, i) => {
            const label = labelOf(c);
            const cls = classOf(label?.classId);
            return (
              <CellThumb
                key={c.id}
                index={i}
                cellId={c.id}
                testId={`sorter-cell-${c.id}`}
                focused={i === focus}
                color={cls?.color ?? null}
                badge={cls ? cls.name : null}
                caption={`Ø ${(2 * Math.sqrt(c.areaUm2 / Math.PI)).toFixed(0)} µm`}
                title={`cell ${c.id} on ${fileName(byId.get(c.imageId)?.path ?? '')} at ${Math.round(c.x)}, ${Math.round(c.y)}`}
                onClick={() => setFocus(i)}
                onDoubleClick={() => {
                  const image = byId.get(c.imageId);
                  onOpenViewer(c.imageId, image ? cellPatch(c, settings.patchSize, image) : c.box, null);
                }}
              />
            );
          })}
        </div>
      </main>
    </div>
  );
}
