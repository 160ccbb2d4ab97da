// OpenSeadragon wrapped for React: the viewer is created once, its tile source swapped when
// the image changes, and destroyed on unmount. Labels live on one canvas overlay. Mouse:
// click = onClick, Shift+drag = draw a box, drag a selected box = move it, drag = pan.
import OpenSeadragon from 'openseadragon';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import { boxFromDrag, contains, translate, type Point } from '@shared/boxGeometry';
import type { Box } from '@shared/image';
import { drawOverlay, type OverlayState, type ViewTransform } from './overlay';

export interface SlideViewerHandle {
  flyTo(box: Box): void;
  /** Pans by a fraction of the visible width and height (keys: arrows). */
  panBy(fx: number, fy: number): void;
  /** Zooms about the centre of the view (keys: + and -). */
  zoomBy(factor: number): void;
  /** The whole image (key: Home). */
  home(): void;
}

interface Props {
  tileSource: string;
  imageWidth: number;
  overlay: OverlayState;
  draftColor: string;
  onClick: (p: Point) => void;
  onDrawBox: (box: Box) => void;
  onMoveBox: (id: number, box: Box) => void;
  onOpened?: () => void;
  /** After each move: the level-0 region in view and screen px per level-0 px (cells query it). */
  onView?: (view: { region: Box; scale: number }) => void;
}

type Gesture = { kind: 'draw'; start: Point; box: Box } | { kind: 'move'; id: number; start: Point; origin: Box; box: Box } | null;

export const SlideViewer = forwardRef<SlideViewerHandle, Props>(function SlideViewer(props, ref) {
  const hostRef = useRef<HTMLDivElement>(null);
  const outerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewerRef = useRef<OpenSeadragon.Viewer | null>(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const gesture = useRef<Gesture>(null);
  const frame = useRef(0);

  const transform = (): ViewTransform | null => {
    const item = viewerRef.current?.world.getItemAt(0);
    if (!item) return null;
    const o = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
    const x1 = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(propsRef.current.imageWidth, 0));
    return { originX: o.x, originY: o.y, scale: (x1.x - o.x) / propsRef.current.imageWidth };
  };

  const redraw = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const canvas = canvasRef.current;
      const host = hostRef.current;
      const t = transform();
      if (!canvas || !host) return;
      const ratio = window.devicePixelRatio || 1;
      const w = host.clientWidth;
      const h = host.clientHeight;
      if (canvas.width !== w * ratio || canvas.height !== h * ratio) {
        canvas.width = w * ratio;
        canvas.height = h * ratio;
      }
      const ctx = canvas.getContext('2d')!;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      if (!t) return ctx.clearRect(0, 0, w, h);
      const g = gesture.current;
      const state = propsRef.current.overlay;
      drawOverlay(ctx, w, h, t, {
        ...state,
        boxes: g?.kind === 'move' ? state.boxes.filter((b) => b.id !== g.id) : state.boxes,
        draft: g
          ? {
              box: g.box,
              color: g.kind === 'move' ? (state.boxes.find((b) => b.id === g.id)?.color ?? 'white') : propsRef.current.draftColor,
            }
          : state.draft,
      });
    });
  };

  useEffect(() => {
    const viewer = OpenSeadragon({
      element: hostRef.current!,
      showNavigationControl: false,
      showNavigator: true,
      navigatorPosition: 'TOP_RIGHT',
      maxZoomPixelRatio: 4,
      visibilityRatio: 0.5,
      animationTime: 0.5,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
      // Keys pan and zoom wherever the focus is (LabelScreen, through the key table), not
      // only when the canvas has it: OpenSeadragon's own keys would act twice.
      keyboardNavEnabled: false,
    });
    viewerRef.current = viewer;
    const toImage = (p: OpenSeadragon.Point): Point | null => {
      const item = viewer.world.getItemAt(0);
      return item ? item.viewerElementToImageCoordinates(p) : null;
    };
    viewer.addHandler('canvas-press', (e) => {
      const p = toImage(e.position);
      const shift = (e.originalEvent as MouseEvent | undefined)?.shiftKey;
      const overlay = propsRef.current.overlay;
      const selected = overlay.boxes.find((b) => b.id === overlay.selectedId);
      if (!p) return;
      if (shift) gesture.current = { kind: 'draw', start: p, box: boxFromDrag(p, p) };
      else if (selected && contains(selected.box, p))
        gesture.current = { kind: 'move', id: selected.id, start: p, origin: selected.box, box: selected.box };
    });
    viewer.addHandler('canvas-drag', (e) => {
      const g = gesture.current;
      const p = toImage(e.position);
      if (!g || !p) return;
      e.preventDefaultAction = true; // no panning while drawing or moving
      g.box = g.kind === 'draw' ? boxFromDrag(g.start, p) : translate(g.origin, p.x - g.start.x, p.y - g.start.y);
      redraw();
    });
    viewer.addHandler('canvas-release', () => {
      const g = gesture.current;
      gesture.current = null;
      if (g?.kind === 'draw' && g.box.w >= 4 && g.box.h >= 4) propsRef.current.onDrawBox(g.box);
      if (g?.kind === 'move' && (g.box.x !== g.origin.x || g.box.y !== g.origin.y)) propsRef.current.onMoveBox(g.id, g.box);
      redraw();
    });
    viewer.addHandler('canvas-click', (e) => {
      if (!e.quick) return;
      e.preventDefaultAction = true;
      const p = toImage(e.position);
      if (p) propsRef.current.onClick(p);
    });
    // Digits pick classes and Delete deletes: keep OpenSeadragon from also acting on them.
    viewer.addHandler('canvas-key', (e) => {
      if (/^[0-9]$/.test(e.originalEvent.key) || e.originalEvent.ctrlKey || e.originalEvent.metaKey) e.preventDefaultAction = true;
    });
    viewer.addHandler('update-viewport', () => {
      redraw();
      // Where the view is, for tests and for anyone reading the DOM: zoom and centre (viewport units).
      const outer = outerRef.current;
      if (!outer) return;
      const centre = viewer.viewport.getCenter(true);
      outer.dataset.zoom = viewer.viewport.getZoom(true).toFixed(4);
      outer.dataset.centerX = centre.x.toFixed(4);
      outer.dataset.centerY = centre.y.toFixed(4);
    });
    viewer.addHandler('resize', redraw);
    const reportView = () => {
      const item = viewer.world.getItemAt(0);
      const t = transform();
      if (!item || !t || !propsRef.current.onView) return;
      const r = item.viewportToImageRectangle(viewer.viewport.getBounds(true));
      propsRef.current.onView({ region: { x: r.x, y: r.y, w: r.width, h: r.height }, scale: t.scale });
    };
    for (const event of ['open', 'animation-finish', 'resize'] as const) viewer.addHandler(event, reportView);
    viewer.addHandler('open', () => {
      redraw();
      propsRef.current.onOpened?.();
    });
    return () => {
      cancelAnimationFrame(frame.current);
      viewer.destroy();
      viewerRef.current = null;
    };
    // The viewer is created once per mount (DESIGN.md 7); redraw reads props through refs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    viewerRef.current?.open(props.tileSource as unknown as OpenSeadragon.TileSourceSpecifier);
  }, [props.tileSource]);

  useEffect(redraw, [props.overlay]);

  useImperativeHandle(ref, () => ({
    flyTo(box: Box) {
      const viewer = viewerRef.current;
      const item = viewer?.world.getItemAt(0);
      if (!viewer || !item) return;
      const margin = Math.max(box.w, box.h) * 2;
      viewer.viewport.fitBounds(item.imageToViewportRectangle(box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin));
    },
    panBy(fx: number, fy: number) {
      const viewport = viewerRef.current?.viewport;
      if (!viewport) return;
      const bounds = viewport.getBounds();
      viewport.panBy(new OpenSeadragon.Point(fx * bounds.width, fy * bounds.height));
      viewport.applyConstraints();
    },
    zoomBy(factor: number) {
      const viewport = viewerRef.current?.viewport;
      if (!viewport) return;
      viewport.zoomBy(factor);
      viewport.applyConstraints();
    },
    home() {
      viewerRef.current?.viewport.goHome();
    },
  }));

  return (
    <div
      ref={outerRef}
      className="viewer-host"
      data-testid="viewer"
      data-boxes={props.overlay.boxes.length}
      data-heat={props.overlay.heat?.cells.length ?? 0}
    >
      <div ref={hostRef} className="osd" />
      <canvas ref={canvasRef} className="overlay" />
    </div>
  );
});
