// Labelling one slide or image: number keys pick the class, a click drops a patch of the
// project's patch size, Shift+drag draws a box, Delete removes the selection, Ctrl+Z and
// Ctrl+Shift+Z undo and redo, arrows and +/- pan and zoom wherever the focus is. Every key is
// looked up in the one key table (shortcuts/keymap.ts) that the `?` sheet lists. Every change
// is committed at once.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import { boxAround, hitTest, type Point } from '@shared/boxGeometry';
import type { Annotation, ClassNode, ImageRecord, ProjectSettings } from '@shared/domain';
import { client, tileSourceUrl } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { download } from '../../components/download';
import { ShotsPanel } from './ShotsPanel';
import { SlideViewer, type SlideViewerHandle } from './SlideViewer';
import { useLabels } from './useLabels';
import { ResultsPanel } from './ResultsPanel';
import { useResults } from './useResults';
import { CellsPanel } from '../cells/CellsPanel';
import { useCellLayer } from '../cells/useCellLayer';
import { OverlayPicker } from './OverlayPicker';
import { useQuery } from '../../api/hooks';
import { usePersistentState } from '../../components/usePersistentState';
import { dialogOpen } from '../../components/useEscape';
import { findShortcut, SHORTCUTS, typingInto, type Scope } from '../shortcuts/keymap';

interface Props {
  image: ImageRecord;
  /** Show this run's predictions (heatmap, review queue). */
  runId: number | null;
  classes: ClassNode[];
  settings: ProjectSettings;
  version: number;
  onChanged: () => void;
  onOpenImage: (imageId: number, focus?: Annotation) => void;
  /** Show another run's results on this image (null: none). */
  onOpenRun: (runId: number | null) => void;
  onBack: () => void;
  focus?: Pick<Annotation, 'box'>;
}

/** The keys the side panel recalls; `?` lists them all. */
const HELP_KEYS = ['pickClass', 'undo', 'deleteLabel', 'zoomIn', 'fit'] as const;

/** Pan step: a fifth of the view (Shift: half of it). */
const panStep = (shift: boolean) => (shift ? 0.5 : 0.2);

export function LabelScreen({ image, runId, classes, settings, version, onChanged, onOpenImage, onOpenRun, onBack, focus }: Props) {
  const flat = useMemo(() => flattenClassTree(classes).map((f) => f.node), [classes]);
  const byId = useMemo(() => new Map(flat.map((c) => [c.id, c])), [flat]);
  const [activeClassId, setActiveClassId] = useState<number | null>(flat[0]?.id ?? null);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const { labels, error, clearError, create, update, remove, undo, redo, reload } = useLabels(image.id, onChanged);
  const viewer = useRef<SlideViewerHandle>(null);
  const active = activeClassId === null ? undefined : byId.get(activeClassId);
  const results = useResults(runId, image.id, flat, onChanged);
  const reviewing = results.active ? results.current : null;
  // Detected cells: a click near one selects it, a class key labels the patch centred on it.
  const cells = useCellLayer({
    image,
    classes,
    labels,
    patchSize: settings.patchSize,
    createLabel: create,
    onClassPicked: setActiveClassId,
  });
  const [shown, setShown] = usePersistentState('cytotune.overlays', { labels: true });
  const imageResults = useQuery('predictions:runs', { imageId: image.id }, version);
  const runs = useQuery('runs:list', {}, version);

  useEffect(() => {
    if (activeClassId === null && flat[0]) setActiveClassId(flat[0].id);
  }, [flat, activeClassId]);

  const onClick = useCallback(
    (p: Point) => {
      const hit = hitTest(labels, p);
      if (cells.click(hit ? null : p) || hit) return setSelectedId(hit?.id ?? null);
      setSelectedId(null);
      if (!active) return;
      // The new box is not selected: the next number key picks the next class, it does not relabel.
      void create(active.id, boxAround(p, settings.patchSize, image.width, image.height));
    },
    [labels, cells, active, create, settings.patchSize, image.width, image.height],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingInto(e.target) || dialogOpen()) return;
      if (cells.key(e)) return e.preventDefault();
      // The review queue owns Enter, digits and S while it has patches to review.
      const scopes: Scope[] = reviewing ? ['Review queue', 'Labelling', 'Viewer'] : ['Labelling', 'Viewer'];
      const hit = findShortcut(e, [...scopes, 'Anywhere']);
      if (!hit) return;
      const v = viewer.current;
      const cls = flat.find((c) => c.shortcut === e.key);
      switch (hit.id) {
        case 'reviewAccept':
          e.preventDefault();
          void results.accept(reviewing!).then(reload);
          break;
        case 'reviewCorrect':
          e.preventDefault();
          if (cls) void results.accept(reviewing!, cls.id).then(reload);
          break;
        case 'reviewSkip':
          e.preventDefault();
          void results.skip(reviewing!);
          break;
        case 'pickClass':
          if (!cls) return;
          if (selectedId !== null) void update(selectedId, { classId: cls.id });
          setActiveClassId(cls.id);
          break;
        case 'undo':
          e.preventDefault();
          void undo();
          setSelectedId(null);
          break;
        case 'redo':
          e.preventDefault();
          void redo();
          break;
        case 'deleteLabel':
          if (selectedId === null) return;
          e.preventDefault();
          void remove(selectedId);
          setSelectedId(null);
          break;
        case 'close':
          setSelectedId(null);
          break;
        case 'panLeft':
        case 'panRight':
        case 'panUp':
        case 'panDown': {
          e.preventDefault();
          const d = panStep(e.shiftKey);
          const [dx, dy] = { panLeft: [-d, 0], panRight: [d, 0], panUp: [0, -d], panDown: [0, d] }[hit.id];
          v?.panBy(dx, dy);
          break;
        }
        case 'zoomIn':
          e.preventDefault();
          v?.zoomBy(1.5);
          break;
        case 'zoomOut':
          e.preventDefault();
          v?.zoomBy(1 / 1.5);
          break;
        case 'fit':
          e.preventDefault();
          v?.home();
          break;
        default:
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [flat, selectedId, undo, redo, update, remove, reviewing, results, reload, cells]);

  // Follow the review queue (or a picked patch) with the viewer.
  const focusBox = results.focus?.box;
  useEffect(() => {
    if (focusBox) viewer.current?.flyTo(focusBox);
  }, [focusBox]);

  const overlay = useMemo(
    () => ({
      heat: results.active ? { cells: results.cells, opacity: results.opacity, highlight: results.focus?.box ?? null } : undefined,
      layers: [cells.draw],
      boxes: shown.labels ? labels.map((a) => ({ id: a.id, box: a.box, color: byId.get(a.classId)?.color ?? '#ffffff' })) : [],
      selectedId,
      draft: null,
      mpp: image.mpp,
    }),
    [labels, byId, selectedId, image.mpp, results.active, results.cells, results.opacity, results.focus, shown.labels, cells.draw],
  );

  const openPatch = (a: Annotation) => (a.imageId === image.id ? viewer.current?.flyTo(a.box) : onOpenImage(a.imageId, a));
  const setSetting = (patch: Partial<ProjectSettings>) => client.call('project:updateSettings', patch).then(onChanged, () => {});

  return (
    <div className="label-screen">
      <div className="toolbar">
        <button onClick={onBack} title="Back to the image list">
          ← Images
        </button>
        <span className="image-title" title={image.path} data-testid="image-title" tabIndex={-1}>
          {image.path.split(/[\\/]/).pop()}
        </span>
        <span className="muted image-meta">
          {image.width}×{image.height}
          {image.mpp ? ` · ${image.mpp.toFixed(3)} µm/px` : ''} · <span data-testid="label-count">{labels.length}</span>{' '}
          {labels.length === 1 ? 'label' : 'labels'}
        </span>
        <span className="spacer" />
        <OverlayPicker
          choice={{ labels: shown.labels, runId }}
          results={imageResults.value ?? []}
          runs={runs.value ?? []}
          labelCount={labels.length}
          onLabels={(labelsShown) => setShown({ labels: labelsShown })}
          onRun={onOpenRun}
          cells={cells.completed && { count: cells.completed.cellCount, shown: cells.show, onShown: cells.setShow }}
        />
        <button
          title="Labels (and this run's predictions) of this image as GeoJSON for QuPath"
          onClick={() => client.call('export:labels', { format: 'geojson', imageId: image.id, ...(runId ? { runId } : {}) }).then(download)}
        >
          GeoJSON
        </button>
        <label>
          patch{' '}
          <input
            type="number"
            className="small"
            min={8}
            max={4096}
            defaultValue={settings.patchSize}
            onBlur={(e) => setSetting({ patchSize: Number(e.target.value) })}
          />{' '}
          px
        </label>
        <label>
          target{' '}
          <input
            type="number"
            className="small"
            min={1}
            defaultValue={settings.shotTarget}
            onBlur={(e) => setSetting({ shotTarget: Number(e.target.value) })}
          />
        </label>
        <span className="active-class" data-testid="active-class" style={{ borderColor: active?.color }}>
          {active ? `${active.shortcut ?? ''} ${active.name}` : 'no class'}
        </span>
      </div>
      <ErrorBanner message={error} onDismiss={clearError} />
      <ErrorBanner message={results.problem} onDismiss={results.clearProblem} />
      <div className="label-body">
        <SlideViewer
          ref={viewer}
          tileSource={tileSourceUrl(image.id)}
          imageWidth={image.width}
          overlay={overlay}
          draftColor={active?.color ?? '#ffffff'}
          onClick={onClick}
          onDrawBox={(box) => active && void create(active.id, box)}
          onMoveBox={(id, box) => void update(id, { box })}
          onOpened={() => focus && viewer.current?.flyTo(focus.box)}
          onView={cells.setView}
        />
        <aside className="label-side">
          {results.active && (
            <ResultsPanel
              runClasses={results.runClasses}
              predictions={results.predictions}
              mode={results.mode}
              opacity={results.opacity}
              queue={results.queue}
              waiting={results.waiting}
              reviewed={results.reviewed}
              current={results.current}
              sort={results.sort}
              onMode={results.setMode}
              onOpacity={results.setOpacity}
              onSort={results.setSort}
              onPick={results.pick}
              onAccept={(p, classId) => void results.accept(p, classId).then(reload)}
              onSkip={(p) => void results.skip(p)}
            />
          )}
          {image.kind === 'slide' && (
            <CellsPanel layer={cells} classes={flat} onOpenSorter={() => (window.location.hash = `#/cells/sort/image/${image.id}`)} />
          )}
          <ShotsPanel
            classes={classes}
            target={settings.shotTarget}
            activeClassId={activeClassId}
            version={version}
            onPickClass={setActiveClassId}
            onOpenPatch={openPatch}
          />
          <p className="help muted">
            {HELP_KEYS.map((id) => SHORTCUTS.find((k) => k.id === id)!).map((k) => (
              <span key={k.id}>
                <b>{k.keys.join(' / ')}</b> {k.description} ·{' '}
              </span>
            ))}
            <b>?</b> all keys and gestures
          </p>
        </aside>
      </div>
    </div>
  );
}
