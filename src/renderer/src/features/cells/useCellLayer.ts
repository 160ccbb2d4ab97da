// Detected cells in the labelling viewer: the cells of the current view (a viewport query, so a
// slide of 100 000 cells stays light), the preview of the detector on the view, a selected cell
// that a click near it picks, and labelling it with a number key as the patch centred on it.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { CELL_PREVIEW_MAX_PIXELS, type CellPreview, type CellRecord, type DetectionRun } from '@shared/cells';
import type { Annotation, ClassNode, ImageRecord } from '@shared/domain';
import type { Box } from '@shared/image';
import { client } from '../../api/client';
import { usePersistentState } from '../../components/usePersistentState';
import { findShortcut } from '../shortcuts/keymap';
import { cellNear, drawCellLayer, type CellViewTransform } from './cellOverlay';
import { cellPatch, labelOnCell } from './useCellLabels';
import { useDetection } from './useDetection';

/** What the viewer shows: the level-0 region in view and screen px per level-0 px. */
export interface ViewInfo {
  region: Box;
  scale: number;
}

/** Above this many cells in view, they are not drawn one by one: zoom in to see them. */
const MAX_VIEW_CELLS = 4000;

interface Options {
  image: ImageRecord;
  classes: ClassNode[];
  labels: Annotation[];
  patchSize: number;
  /** Creates a label (the viewer's own create, so undo and counters follow). */
  createLabel: (classId: number, box: Box) => Promise<unknown>;
  onClassPicked: (classId: number) => void;
}

export function useCellLayer({ image, classes, labels, patchSize, createLabel, onClassPicked }: Options) {
  const [{ shown: show }, setShown] = usePersistentState('cytotune.overlays.cells', { shown: true });
  const setShow = useCallback((shown: boolean) => setShown({ shown }), [setShown]);
  const [view, setView] = useState<ViewInfo | null>(null);
  const [cells, setCells] = useState<CellRecord[]>([]);
  const [tooMany, setTooMany] = useState(false);
  const [selected, setSelected] = useState<CellRecord | null>(null);
  const [preview, setPreview] = useState<CellPreview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  /** On from "Preview" until "clear": a parameter changed meanwhile previews again. */
  const [previewOn, setPreviewOn] = useState(false);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const detection = useDetection(image.id, () => setTick((t) => t + 1));
  const completed: DetectionRun | undefined = detection.runs.find((r) => r.status === 'completed');

  // The cells of the view (padded by half a view so small pans need no new query).
  const viewKey = view ? [view.region.x, view.region.y, view.region.w, view.region.h].map(Math.round).join(',') : '';
  useEffect(() => {
    if (!show || !completed || !view) {
      setCells([]);
      return;
    }
    let on = true;
    const r = view.region;
    const region = { x: r.x - r.w / 2, y: r.y - r.h / 2, w: r.w * 2, h: r.h * 2 };
    const timer = setTimeout(() => {
      void client
        .call('cells:list', { imageId: image.id, detectionRunId: completed.id, region, limit: MAX_VIEW_CELLS + 1 })
        .then((list) => {
          if (!on) return;
          setTooMany(list.length > MAX_VIEW_CELLS);
          setCells(list.length > MAX_VIEW_CELLS ? [] : list);
        });
    }, 120);
    return () => {
      on = false;
      clearTimeout(timer);
    };
    // viewKey stands for the view's region.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [show, completed?.id, viewKey, image.id, tick]);

  const runPreview = useCallback(async () => {
    if (!view) return;
    setPreviewOn(true);
    setPreviewing(true);
    setPreviewError(null);
    try {
      setPreview(await client.call('cells:preview', { imageId: image.id, region: view.region, ...detection.request }));
    } catch (e) {
      setPreview(null);
      setPreviewError((e as Error).message);
    } finally {
      setPreviewing(false);
    }
  }, [view, image.id, detection.request]);

  // Changing a parameter while a preview shows previews again, so tuning is immediate.
  const requestKey = JSON.stringify(detection.request);
  const lastRequest = useRef(requestKey);
  useEffect(() => {
    if (lastRequest.current === requestKey) return;
    lastRequest.current = requestKey;
    if (!previewOn) return;
    const timer = setTimeout(() => void runPreview(), 400);
    return () => clearTimeout(timer);
    // Only a change of parameters previews again (not a pan).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [requestKey]);
  const clearPreview = useCallback(() => {
    setPreviewOn(false);
    setPreview(null);
    setPreviewError(null);
  }, []);

  /** A click: selects the cell near it and returns true, or returns false (the viewer drops a patch); null lets go. */
  const click = useCallback(
    (p: { x: number; y: number } | null) => {
      const hit = p && show && view ? cellNear(cells, p, view.scale) : null;
      setSelected(hit);
      return hit !== null;
    },
    [show, view, cells],
  );

  const flat = useMemo(() => {
    const out: ClassNode[] = [];
    const walk = (n: ClassNode[]) => n.forEach((c) => (out.push(c), walk(c.children)));
    walk(classes);
    return out;
  }, [classes]);

  /** A key: P previews, a class's digit labels the selected cell, Esc lets it go; true when used. */
  const key = useCallback(
    (e: KeyboardEvent) => {
      if (image.kind !== 'slide') return false;
      const id = findShortcut(e, ['Cells in the viewer', 'Anywhere'])?.id;
      if (id === 'cellPreview') {
        void runPreview();
        return true;
      }
      if (!selected) return false;
      if (id === 'close') {
        setSelected(null);
        return true;
      }
      const cls = id === 'cellLabel' ? flat.find((c) => c.shortcut === e.key) : undefined;
      if (!cls) return false;
      const cell = selected;
      setSelected(null);
      onClassPicked(cls.id);
      // A cell that already carries a label is relabelled by selecting that label instead.
      if (!labelOnCell(cell, labels)) void createLabel(cls.id, cellPatch(cell, patchSize, image));
      return true;
    },
    [selected, flat, labels, createLabel, patchSize, image, onClassPicked, runPreview],
  );

  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, width: number, height: number, t: CellViewTransform) =>
      drawCellLayer(ctx, width, height, t, { cells: show ? cells : [], preview: preview?.cells ?? null, selected }),
    [show, cells, preview, selected],
  );

  const viewPixels = view
    ? Math.max(0, Math.min(image.width, view.region.x + view.region.w) - Math.max(0, view.region.x)) *
      Math.max(0, Math.min(image.height, view.region.y + view.region.h) - Math.max(0, view.region.y))
    : 0;
  return {
    detection,
    show,
    setShow,
    view,
    setView,
    cells,
    tooMany,
    selected,
    click,
    key,
    draw,
    preview,
    previewing,
    previewError,
    runPreview,
    clearPreview,
    /** The view is too large to preview at full resolution. */
    previewTooLarge: viewPixels > CELL_PREVIEW_MAX_PIXELS,
    completed,
  };
}
