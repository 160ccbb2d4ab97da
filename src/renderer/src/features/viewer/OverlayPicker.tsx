// The viewer's overlay picker: which layers are drawn over the image. Today: the labels (on or
// off) and one run's results (heatmap and review queue) among the runs with predictions on this
// image, and a slide's detected cells (features/cells draws them through OverlayState.layers).
import { useEffect, useRef, useState } from 'react';
import type { ImageResults, RunRecord } from '@shared/domain';
import { plural } from '../../components/plural';
import { useEscape } from '../../components/useEscape';

/** The kinds of layer the viewer draws. */
export type OverlayLayerKind = 'labels' | 'predictions' | 'cells';

export interface OverlayChoice {
  /** Labels drawn. */
  labels: boolean;
  /** The run whose results are shown, or null. */
  runId: number | null;
}

interface Props {
  choice: OverlayChoice;
  /** Runs with predictions on this image, newest first. */
  results: ImageResults[];
  runs: RunRecord[];
  labelCount: number;
  onLabels: (shown: boolean) => void;
  onRun: (runId: number | null) => void;
  /** The slide's detected cells, when it has some: how many, and whether they are drawn. */
  cells?: { count: number; shown: boolean; onShown: (shown: boolean) => void };
}

export function OverlayPicker({ choice, results, runs, labelCount, onLabels, onRun, cells }: Props) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEscape(() => setOpen(false), open);
  useEffect(() => {
    if (!open) return;
    const away = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    window.addEventListener('mousedown', away);
    return () => window.removeEventListener('mousedown', away);
  }, [open]);
  const runName = (runId: number) => {
    const run = runs.find((r) => r.id === runId);
    return `Run ${runId}${run ? ` · ${run.config.method === 'lora' ? 'LoRA' : 'linear probe'}` : ''}`;
  };
  const summary =
    [choice.labels ? 'labels' : null, cells?.shown ? 'cells' : null, choice.runId ? `run ${choice.runId}` : null]
      .filter(Boolean)
      .join(' + ') || 'nothing';
  return (
    <div className="overlay-picker" ref={ref}>
      <button
        data-testid="overlay-picker"
        aria-expanded={open}
        aria-haspopup="true"
        onClick={() => setOpen((o) => !o)}
        title="What is drawn over the image"
      >
        Overlays: {summary} ▾
      </button>
      {open && (
        <div className="popover" role="menu" data-testid="overlay-menu">
          <label className="menu-row">
            <input type="checkbox" data-testid="overlay-labels" checked={choice.labels} onChange={(e) => onLabels(e.target.checked)} />{' '}
            Labels
            <span className="muted"> ({labelCount})</span>
          </label>
          {cells && (
            <label className="menu-row">
              <input type="checkbox" data-testid="overlay-cells" checked={cells.shown} onChange={(e) => cells.onShown(e.target.checked)} />{' '}
              Detected cells
              <span className="muted"> ({cells.count.toLocaleString()})</span>
            </label>
          )}
          <div className="menu-title">Results</div>
          <label className="menu-row">
            <input
              type="radio"
              name="overlay-run"
              data-testid="overlay-run-none"
              checked={choice.runId === null}
              onChange={() => onRun(null)}
            />{' '}
            none
          </label>
          {results.map((r) => (
            <label key={r.runId} className="menu-row">
              <input
                type="radio"
                name="overlay-run"
                data-testid={`overlay-run-${r.runId}`}
                checked={choice.runId === r.runId}
                onChange={() => onRun(r.runId)}
              />{' '}
              {runName(r.runId)} <span className="muted">({plural(r.predictions, 'patch')})</span>
            </label>
          ))}
          {results.length === 0 && <p className="muted menu-note">No run has classified this image yet (Train &amp; classify).</p>}
        </div>
      )}
    </div>
  );
}
