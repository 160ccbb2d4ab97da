// Labelling one slide or image: number keys pick the class, a click drops a patch of the
// project's patch size, Shift+drag draws a box, Delete removes the selection, Ctrl+Z and
// Ctrl+Shift+Z undo and redo. Every change is committed at once.
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

interface Props {
  image: ImageRecord;
  /** Show this run's predictions (heatmap, review queue). */
  runId: number | null;
  classes: ClassNode[];
  settings: ProjectSettings;
  version: number;
  onChanged: () => void;
  onOpenImage: (imageId: number, focus?: Annotation) => void;
  onBack: () => void;
  focus?: Annotation;
}

const typing = (t: EventTarget | null) =>
  t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;

export function LabelScreen({ image, runId, classes, settings, version, onChanged, onOpenImage, onBack, focus }: Props) {
  const flat = useMemo(() => flattenClassTree(classes).map((f) => f.node), [classes]);
  const byId = useMemo(() => new Map(flat.map((c) => [c.id, c])), [flat]);
  const [activeClassId, setActiveClassId] = useState<number | null>(flat[0]?.id ?? null);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const { labels, error, clearError, create, update, remove, undo, redo, reload } = useLabels(image.id, onChanged);
  const viewer = useRef<SlideViewerHandle>(null);
  const active = activeClassId === null ? undefined : byId.get(activeClassId);
  const results = useResults(runId, image.id, flat, onChanged);
  const reviewing = results.active ? results.current : null;

  useEffect(() => {
    if (activeClassId === null && flat[0]) setActiveClassId(flat[0].id);
  }, [flat, activeClassId]);

  const onClick = useCallback(
    (p: Point) => {
      const hit = hitTest(labels, p);
      if (hit) return setSelectedId(hit.id);
      setSelectedId(null);
      if (!active) return;
      // The new box is not selected: the next number key picks the next class, it does not relabel.
      void create(active.id, boxAround(p, settings.patchSize, image.width, image.height));
    },
    [labels, active, create, settings.patchSize, image.width, image.height],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (reviewing && !mod && (e.key === 'Enter' || /^[0-9]$/.test(e.key) || e.key === 'ArrowDown')) {
        // The review queue owns Enter, digits and ↓ while it has patches to review.
        e.preventDefault();
        const cls = flat.find((c) => c.shortcut === e.key);
        if (e.key === 'ArrowDown') results.skip(reviewing);
        else if (e.key === 'Enter' || cls) void results.accept(reviewing, cls?.id).then(reload);
        return;
      }
      if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        void (e.shiftKey ? redo() : undo());
        setSelectedId(null);
      } else if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        void redo();
      } else if (/^[0-9]$/.test(e.key) && !mod) {
        const cls = flat.find((c) => c.shortcut === e.key);
        if (!cls) return;
        if (selectedId !== null) void update(selectedId, { classId: cls.id });
        setActiveClassId(cls.id);
      } else if ((e.key === 'Delete' || e.key === 'Backspace') && selectedId !== null) {
        e.preventDefault();
        void remove(selectedId);
        setSelectedId(null);
      } else if (e.key === 'Escape') {
        setSelectedId(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [flat, selectedId, undo, redo, update, remove, reviewing, results, reload]);

  // Follow the review queue (or a picked patch) with the viewer.
  const focusBox = results.focus?.box;
  useEffect(() => {
    if (focusBox) viewer.current?.flyTo(focusBox);
  }, [focusBox]);

  const overlay = useMemo(
    () => ({
      heat: results.active ? { cells: results.cells, opacity: results.opacity, highlight: results.focus?.box ?? null } : undefined,
      boxes: labels.map((a) => ({ id: a.id, box: a.box, color: byId.get(a.classId)?.color ?? '#ffffff' })),
      selectedId,
      draft: null,
      mpp: image.mpp,
    }),
    [labels, byId, selectedId, image.mpp, results.active, results.cells, results.opacity, results.focus],
  );

  const openPatch = (a: Annotation) => (a.imageId === image.id ? viewer.current?.flyTo(a.box) : onOpenImage(a.imageId, a));
  const setSetting = (patch: Partial<ProjectSettings>) => client.call('project:updateSettings', patch).then(onChanged, () => {});

  return (
    <div className="label-screen">
      <div className="toolbar">
        <button onClick={onBack} title="Back to the image list">
          ← Images
        </button>
        <span className="image-title" title={image.path}>
          {image.path.split(/[\\/]/).pop()}
        </span>
        <span className="muted">
          {image.width}×{image.height}
          {image.mpp ? ` · ${image.mpp.toFixed(3)} µm/px` : ''} · <span data-testid="label-count">{labels.length}</span> labels
        </span>
        <span className="spacer" />
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
        />
        <aside className="label-side">
          {results.active && (
            <ResultsPanel
              runClasses={results.runClasses}
              predictions={results.predictions}
              mode={results.mode}
              opacity={results.opacity}
              queue={results.queue}
              current={results.current}
              sort={results.sort}
              onMode={results.setMode}
              onOpacity={results.setOpacity}
              onSort={results.setSort}
              onPick={results.pick}
              onAccept={(p, classId) => void results.accept(p, classId).then(reload)}
            />
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
            <b>1–9, 0</b> pick class (or relabel the selection) · <b>click</b> drop a patch or select · <b>Shift+drag</b> draw · <b>drag</b>{' '}
            a selected box to move · <b>Delete</b> remove · <b>Ctrl+Z</b> / <b>Ctrl+Shift+Z</b> undo / redo · arrows, +/− pan and zoom
          </p>
        </aside>
      </div>
    </div>
  );
}
