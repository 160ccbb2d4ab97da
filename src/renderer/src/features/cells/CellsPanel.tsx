// The viewer's "Cells" panel: detect cells on this slide with a preset and its two main
// parameters in micrometres, preview the detector on the current view first, follow the
// detection (progress, time left, cancel), show or hide the cells, and open the cell sorter.
import type { ClassNode } from '@shared/domain';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { useCellLayer } from './useCellLayer';
import type { PresetName } from './useDetection';
import { timeLeft } from './useJob';
import './cells.css';

type Layer = ReturnType<typeof useCellLayer>;

const num = (v: string, fallback: number) => (Number.isFinite(Number(v)) && v.trim() !== '' ? Number(v) : fallback);

export function CellsPanel({ layer, classes, onOpenSorter }: { layer: Layer; classes: ClassNode[]; onOpenSorter: () => void }) {
  const d = layer.detection;
  const form = d.form;
  const done = layer.completed;
  const selected = layer.selected;
  const keyed = classes.filter((c) => c.shortcut).length > 0;
  return (
    <section
      className="cells-panel"
      aria-label="Cells"
      data-testid="cells-panel"
      // Where the viewer is (level-0 px of its top-left corner, screen px per level-0 px), for tests.
      data-view-x={layer.view?.region.x}
      data-view-y={layer.view?.region.y}
      data-view-scale={layer.view?.scale}
    >
      <h2>Cells</h2>
      <p className="cells-status" data-testid="cells-status">
        {done ? (
          <>
            <b data-testid="cells-count">{done.cellCount.toLocaleString()}</b> cells detected ·{' '}
            <label>
              <input type="checkbox" data-testid="cells-show" checked={layer.show} onChange={(e) => layer.setShow(e.target.checked)} /> show
            </label>
            {layer.show && layer.tooMany && <span className="muted"> · zoom in to see them</span>}
          </>
        ) : (
          <span className="muted">No cells detected on this slide yet.</span>
        )}
      </p>
      {form && (
        <div className="form-grid">
          <label htmlFor="cells-preset">Preset</label>
          <select
            id="cells-preset"
            data-testid="cells-preset"
            value={form.preset}
            onChange={(e) => d.pickPreset(e.target.value as PresetName)}
          >
            {d.presets.map((p) => (
              <option key={p.name} value={p.name}>
                {p.label}
              </option>
            ))}
          </select>
          <label title="Equivalent-disk diameter of a nucleus, micrometres">Nucleus Ø</label>
          <span className="range">
            <input
              type="number"
              aria-label="smallest nucleus diameter in micrometres"
              data-testid="cells-min"
              min={1}
              step={0.5}
              value={form.minUm}
              onChange={(e) => d.setForm({ ...form, minUm: num(e.target.value, form.minUm) })}
            />
            –
            <input
              type="number"
              aria-label="largest nucleus diameter in micrometres"
              data-testid="cells-max"
              min={1}
              step={0.5}
              value={form.maxUm}
              onChange={(e) => d.setForm({ ...form, maxUm: num(e.target.value, form.maxUm) })}
            />
            µm
          </span>
          <label title="How far a nucleus must stand above its local background, optical density">Min contrast</label>
          <span className="range">
            <input
              type="number"
              aria-label="minimum contrast, optical density"
              data-testid="cells-contrast"
              min={0.01}
              max={3}
              step={0.05}
              value={form.contrast}
              onChange={(e) => d.setForm({ ...form, contrast: num(e.target.value, form.contrast) })}
            />
            OD
          </span>
        </div>
      )}
      <div className="row">
        <button
          data-testid="cells-preview"
          disabled={layer.previewing || layer.previewTooLarge}
          title={
            layer.previewTooLarge
              ? 'The view is over 4 megapixels at full resolution: zoom in to preview'
              : 'Run the detector on this view (P)'
          }
          onClick={() => void layer.runPreview()}
        >
          {layer.previewing ? 'Previewing…' : 'Preview view (P)'}
        </button>
        <button className="primary" data-testid="cells-detect" disabled={!!d.live || d.queued} onClick={() => void d.start()}>
          {done ? 'Detect again' : 'Detect cells'}
        </button>
      </div>
      {layer.previewTooLarge && !layer.preview && <p className="muted cells-status">Zoom in to preview: the view is over 4 megapixels.</p>}
      {layer.preview && (
        <p className="cells-status" data-testid="cells-preview-result">
          Preview: <b>{layer.preview.cells.length}</b> nuclei in the view ({(layer.preview.milliseconds / 1000).toFixed(1)} s)
          {layer.preview.mppAssumed ? ' · no µm/px recorded: 0.5 assumed' : ''}{' '}
          <button className="link" onClick={layer.clearPreview}>
            clear
          </button>
        </p>
      )}
      <ErrorBanner message={layer.previewError} onDismiss={layer.clearPreview} />
      {(d.live || d.queued) && (
        <div className="progress cells-status" data-testid="cells-progress">
          {d.live && d.live.total > 0 ? (
            <>
              <progress max={d.live.total} value={d.live.step} />
              <span>
                {d.live.step}/{d.live.total} tiles · {timeLeft(d.live.etaSeconds)}
              </span>
            </>
          ) : (
            <span>detection queued…</span>
          )}
          <button data-testid="cells-cancel" onClick={() => void d.cancel()}>
            Cancel
          </button>
        </div>
      )}
      {d.latest?.status === 'cancelled' && !d.live && <p className="muted cells-status">The last detection was cancelled.</p>}
      <ErrorBanner message={d.error} onDismiss={d.clearError} />
      {selected && (
        <p className="cells-status" data-testid="cells-selected">
          Cell selected (Ø {(2 * Math.sqrt(selected.areaUm2 / Math.PI)).toFixed(1)} µm):{' '}
          {keyed ? 'press a class key to label it' : 'give classes a key to label it'} · Esc lets go
        </p>
      )}
      {done && (
        <button className="link" data-testid="cells-open-sorter" onClick={onOpenSorter}>
          Sort the cells of this slide →
        </button>
      )}
    </section>
  );
}
