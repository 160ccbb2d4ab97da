// Cells, cytology's unit: sort detected cells into classes, classify every detected cell of all
// slides with a trained run, review each slide's most relevant cells in a gallery, the case
// list of all slides, and the least certain cells of all slides (active learning).
import { useCallback, useEffect, useMemo, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode, ProjectSettings } from '@shared/domain';
import type { Box } from '@shared/image';
import { useQuery } from '../../api/hooks';
import { CaseList } from './CaseList';
import { CellGallery } from './CellGallery';
import { CellReview } from './CellReview';
import { CellSorter } from './CellSorter';
import { ClassifyAll } from './ClassifyAll';
import type { CellsRoute, CellsView } from './cellsRoute';
import './cells.css';

interface Props {
  route: CellsRoute;
  classes: ClassNode[];
  settings: ProjectSettings;
  version: number;
  onChanged: () => void;
  onNavigate: (route: CellsRoute) => void;
  /** Opens the labelling viewer on a slide, at a box, with a run's results. */
  onOpenViewer: (imageId: number, box: Box | null, runId: number | null) => void;
}

const VIEWS: { view: CellsView; label: string; title: string }[] = [
  { view: 'sort', label: 'Sort cells', title: 'Detected cells in a grid: number keys put them into classes' },
  { view: 'gallery', label: 'Gallery', title: "A slide's top cells for the chosen score" },
  { view: 'cases', label: 'Cases', title: 'Every slide with its slide score and review' },
  { view: 'review', label: 'Review queue', title: 'The least certain cells of all slides (active learning)' },
];

const SCORE_KEY = 'cytotune.cells.scoreClass';

export function CellsScreen({ route, classes, settings, version, onChanged, onNavigate, onOpenViewer }: Props) {
  const [local, setLocal] = useState(0);
  const refresh = useCallback(() => {
    setLocal((v) => v + 1);
    onChanged();
  }, [onChanged]);
  const runs = useQuery('runs:list', {}, version + local);
  const completed = useMemo(() => (runs.value ?? []).filter((r) => r.status === 'completed'), [runs.value]);
  const runId = route.runId ?? completed[0]?.id ?? null;
  const run = completed.find((r) => r.id === runId) ?? null;
  const flat = useMemo(() => flattenClassTree(classes), [classes]);
  const runClassIds = useMemo(() => ((run?.config.classes as { id: number }[] | undefined) ?? []).map((c) => c.id), [run]);

  // The score: a class of the tree (its descendants count too); by default the run's last class.
  const [scoreClassId, setScoreClassId] = useState<number | null>(() => Number(window.localStorage.getItem(SCORE_KEY)) || null);
  const scoreId = flat.some((f) => f.node.id === scoreClassId) ? scoreClassId : (runClassIds[runClassIds.length - 1] ?? null);
  useEffect(() => {
    if (scoreClassId !== null) window.localStorage.setItem(SCORE_KEY, String(scoreClassId));
  }, [scoreClassId]);

  const go = (view: CellsView, imageId = route.imageId) => onNavigate({ screen: 'cells', view, imageId, runId: route.runId });
  const needsRun = route.view !== 'sort';

  return (
    <div className="cells-screen">
      <div className="toolbar cells-toolbar">
        <div className="cells-tabs" role="tablist">
          {VIEWS.map((v) => (
            <button
              key={v.view}
              role="tab"
              aria-selected={route.view === v.view}
              className={route.view === v.view ? 'active' : ''}
              data-testid={`cells-view-${v.view}`}
              title={v.title}
              onClick={() => go(v.view)}
            >
              {v.label}
            </button>
          ))}
        </div>
        <span className="spacer" />
        {needsRun && (
          <>
            <label className="cells-pick">
              run{' '}
              <select
                data-testid="cells-run"
                value={runId ?? ''}
                onChange={(e) => onNavigate({ ...route, runId: Number(e.target.value) || null })}
              >
                {completed.length === 0 && <option value="">no trained run</option>}
                {completed.map((r) => (
                  <option key={r.id} value={r.id}>
                    Run {r.id} · {r.config.method === 'lora' ? 'LoRA' : 'linear probe'} ·{' '}
                    {String(r.config.model ?? '')
                      .split(/[\\/]/)
                      .pop()}
                  </option>
                ))}
              </select>
            </label>
            {route.view !== 'review' && (
              <label className="cells-pick" title="Cells are ranked by the probability of this class (its subclasses included)">
                score{' '}
                <select data-testid="cells-score" value={scoreId ?? ''} onChange={(e) => setScoreClassId(Number(e.target.value))}>
                  {flat.map(({ node, level }) => (
                    <option key={node.id} value={node.id}>
                      {'\u2003'.repeat(level - 1)}
                      {node.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </>
        )}
      </div>
      {needsRun && run && <ClassifyAll run={run} onFinished={refresh} />}
      {needsRun && !run ? (
        <div className="cells-empty card">
          <h2>No trained run yet</h2>
          <p>
            Label 8–16 cells per class (in the cell sorter or the viewer), then train a model in <b>Train &amp; classify</b>. Its results on
            every detected cell appear here.
          </p>
          <button onClick={() => go('sort')}>Open the cell sorter</button>
        </div>
      ) : route.view === 'sort' ? (
        <CellSorter
          classes={classes}
          settings={settings}
          version={version + local}
          initialImageId={route.imageId}
          onChanged={refresh}
          onOpenViewer={onOpenViewer}
        />
      ) : route.view === 'gallery' ? (
        <CellGallery
          key={`${run!.id}`}
          run={run!}
          classes={classes}
          scoreClassId={scoreId}
          imageId={route.imageId}
          version={version + local}
          onPickImage={(id) => go('gallery', id)}
          onChanged={refresh}
          onOpenViewer={onOpenViewer}
        />
      ) : route.view === 'cases' ? (
        <CaseList
          run={run!}
          classes={classes}
          scoreClassId={scoreId}
          version={version + local}
          onOpenGallery={(id) => go('gallery', id)}
          onChanged={refresh}
        />
      ) : (
        <CellReview run={run!} classes={classes} version={version + local} onChanged={refresh} onOpenViewer={onOpenViewer} />
      )}
    </div>
  );
}
