// Active learning over cells: the least certain cells of a run across all classified slides
// (predictions:review without an image), one at a time. Enter accepts, a class key corrects
// (both make a label for the next training), S or ↓ skips, O opens the cell in the viewer. Cells
// that already carry a label (sorted, clicked) are left out: they teach the model nothing new.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode, Prediction, RunRecord } from '@shared/domain';
import type { Box } from '@shared/image';
import { client } from '../../api/client';
import { useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { cellUrl } from './cellUrl';
import { gridShortcut } from './gridKeys';
import { labelOnCell } from './useCellLabels';

interface Props {
  run: RunRecord;
  classes: ClassNode[];
  version: number;
  onChanged: () => void;
  onOpenViewer: (imageId: number, box: Box | null, runId: number | null) => void;
}

const QUEUE = 60;
const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;

export function CellReview({ run, classes, version, onChanged, onOpenViewer }: Props) {
  const flat = useMemo(() => flattenClassTree(classes).map((f) => f.node), [classes]);
  const runClasses = useMemo(
    () => ((run.config.classes as { id: number }[] | undefined) ?? []).map((c) => flat.find((f) => f.id === c.id)),
    [run, flat],
  );
  const images = useQuery('images:list', { limit: 5000 }, version);
  const nameOf = (id: number) => fileName(images.value?.find((i) => i.id === id)?.path ?? `image ${id}`);
  const [queue, setQueue] = useState<Prediction[] | null>(null);
  const [done, setDone] = useState<Set<number>>(new Set());
  const [reviewed, setReviewed] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let on = true;
    const load = async () => {
      const q = (await client.call('predictions:review', { runId: run.id, limit: QUEUE })).filter((p) => p.cellId !== null);
      const imageIds = [...new Set(q.map((p) => p.imageId))];
      const labels = new Map(
        await Promise.all(imageIds.map(async (id) => [id, await client.call('annotations:list', { imageId: id })] as const)),
      );
      const centre = (p: Prediction) => ({ x: p.box.x + p.box.w / 2, y: p.box.y + p.box.h / 2, box: { x: 0, y: 0, w: 8, h: 8 } });
      return q.filter((p) => !labelOnCell(centre(p), labels.get(p.imageId) ?? []));
    };
    load().then(
      (q) => on && setQueue(q),
      (e: Error) => on && setProblem(e.message),
    );
    return () => {
      on = false;
    };
  }, [run.id, tick]);

  const open = useMemo(() => (queue ?? []).filter((p) => !done.has(p.id)), [queue, done]);
  const current = open[0] as Prediction | undefined;
  const next = useCallback(
    (p: Prediction) => {
      setDone((d) => new Set(d).add(p.id));
      // Fetch the queue again as it runs low: the others' answers (and retraining) reorder it.
      if (open.length <= 5) setTick((t) => t + 1);
    },
    [open.length],
  );
  // A skip is kept in the project: the cell comes back at the end of the queue, also after a reload.
  const skip = useCallback(
    (p: Prediction) => {
      next(p);
      client.call('predictions:skip', { predictionId: p.id }).catch((e: Error) => setProblem(e.message));
    },
    [next],
  );
  const accept = useCallback(
    async (p: Prediction, classId?: number) => {
      try {
        await client.call('predictions:accept', { predictionId: p.id, ...(classId ? { classId } : {}) });
        setProblem(null);
        setReviewed((n) => n + 1);
        next(p);
        onChanged();
      } catch (e) {
        setProblem((e as Error).message);
      }
    },
    [next, onChanged],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const id = gridShortcut(e);
      if (!current || !id) return;
      const cls = id === 'gridLabel' ? flat.find((c) => c.shortcut === e.key) : undefined;
      if (id === 'gridAccept' || cls) {
        e.preventDefault();
        void accept(current, cls?.id);
      } else if (id === 'gridSkip') {
        e.preventDefault();
        skip(current);
      } else if (id === 'gridOpen') {
        onOpenViewer(current.imageId, current.box, run.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [current, flat, accept, skip, onOpenViewer, run.id]);

  const predicted = current ? flat.find((c) => c.id === current.classId) : undefined;
  return (
    <div className="cells-body cells-review">
      <main className="cells-main">
        <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
        {queue === null ? (
          <p className="muted">Loading the review queue…</p>
        ) : !current ? (
          <p className="muted" data-testid="cell-review-empty">
            No cells left to review for run #{run.id}. Classify the cells of all slides (above), or train again with the new labels.
          </p>
        ) : (
          <section className="card cell-review" data-testid="cell-review-current">
            <img className="cell-review-image" src={cellUrl(current.cellId!)} alt="" />
            <div className="col cell-review-info">
              <h2>
                Least certain cell · <span data-testid="cell-review-left">{open.length}</span>
                {queue.length >= QUEUE ? '+' : ''} in the queue · {reviewed} reviewed
              </h2>
              <p>
                <span className="cells-name" title={nameOf(current.imageId)}>
                  {nameOf(current.imageId)}
                </span>
                <br />
                predicted <b>{predicted?.name ?? '?'}</b> ({(100 * Math.max(...current.probabilities)).toFixed(0)} %) · entropy{' '}
                {current.entropy.toFixed(3)}
              </p>
              <ul className="plain cells-probs">
                {runClasses.map((c, i) => (
                  <li key={c?.id ?? i}>
                    <span className="cells-name">{c?.name ?? '?'}</span>
                    <span className="cells-bar">
                      <span style={{ width: `${100 * (current.probabilities[i] ?? 0)}%`, background: c?.color }} />
                    </span>
                    <span className="num">{(100 * (current.probabilities[i] ?? 0)).toFixed(0)} %</span>
                  </li>
                ))}
              </ul>
              <div className="row cells-actions">
                <button className="primary" data-testid="cell-review-accept" onClick={() => void accept(current)}>
                  Accept (Enter)
                </button>
                {flat
                  .filter((c) => c.id !== current.classId && c.shortcut)
                  .map((c) => (
                    <button key={c.id} onClick={() => void accept(current, c.id)}>
                      {c.shortcut}: {c.name}
                    </button>
                  ))}
                <button onClick={() => skip(current)}>Skip (S)</button>
                <button className="link" onClick={() => onOpenViewer(current.imageId, current.box, run.id)}>
                  Open in viewer (O)
                </button>
              </div>
            </div>
          </section>
        )}
        {open.length > 1 && (
          <>
            <h2>Next up</h2>
            <div className="cell-strip">
              {open.slice(1, 17).map((p) => (
                <img key={p.id} src={cellUrl(p.cellId!)} alt="" title={`${nameOf(p.imageId)} · entropy ${p.entropy.toFixed(3)}`} />
              ))}
            </div>
          </>
        )}
      </main>
    </div>
  );
}
