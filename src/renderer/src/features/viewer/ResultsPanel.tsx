// A run's predictions on this image: heatmap settings, patches sorted by a class's
// probability or by uncertainty, and the review queue (least certain first) where Enter
// accepts the prediction as a label, a class's number key corrects it and S skips it.
import type { ClassNode, Prediction } from '@shared/domain';
import { plural } from '../../components/plural';

export type HeatMode = { kind: 'predicted' } | { kind: 'probability'; index: number };

interface Props {
  runClasses: ClassNode[];
  predictions: Prediction[];
  mode: HeatMode;
  opacity: number;
  queue: Prediction[];
  /** Predictions not yet reviewed (skipped ones not counted). */
  waiting: number;
  reviewed: number;
  current: Prediction | null;
  sort: 'uncertainty' | 'probability';
  onMode: (m: HeatMode) => void;
  onOpacity: (o: number) => void;
  onSort: (s: 'uncertainty' | 'probability') => void;
  onPick: (p: Prediction) => void;
  onAccept: (p: Prediction, classId?: number) => void;
  onSkip: (p: Prediction) => void;
}

export function ResultsPanel(props: Props) {
  const { runClasses, predictions, mode, queue, current } = props;
  const nameOf = (id: number) => runClasses.find((c) => c.id === id)?.name ?? '?';
  const sorted =
    props.sort === 'uncertainty' || mode.kind !== 'probability'
      ? [...predictions].sort((a, b) => b.entropy - a.entropy)
      : [...predictions].sort((a, b) => b.probabilities[mode.index] - a.probabilities[mode.index]);
  const counts = runClasses.map((c) => predictions.filter((p) => p.classId === c.id).length);
  return (
    <section className="results" aria-label="Results">
      <h2>Predictions ({plural(predictions.length, 'patch')})</h2>
      <ul className="plain">
        {runClasses.map((c, i) => (
          <li key={c.id} className="ellipsis" title={c.name}>
            <span className="dot" style={{ background: c.color }} /> {c.name}: <b data-testid={`predicted-${c.name}`}>{counts[i]}</b>
          </li>
        ))}
      </ul>
      <div className="form-grid narrow">
        <label>Heatmap</label>
        <select
          data-testid="heat-mode"
          value={mode.kind === 'predicted' ? 'predicted' : String(mode.index)}
          onChange={(e) =>
            props.onMode(e.target.value === 'predicted' ? { kind: 'predicted' } : { kind: 'probability', index: Number(e.target.value) })
          }
        >
          <option value="predicted">predicted class colour</option>
          {runClasses.map((c, i) => (
            <option key={c.id} value={i}>
              probability of {c.name}
            </option>
          ))}
        </select>
        <label>Opacity</label>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={props.opacity}
          onChange={(e) => props.onOpacity(Number(e.target.value))}
          aria-label="Heatmap opacity"
        />
      </div>
      <h3>
        Review queue{' '}
        <span className="muted" data-testid="review-left">
          ({props.waiting} left{props.reviewed ? ` · ${props.reviewed} reviewed` : ''}
          {queue.length > props.waiting ? ` · ${queue.length - props.waiting} skipped` : ''})
        </span>
      </h3>
      {current ? (
        <div className="review" data-testid="review-current">
          <p>
            predicted <b>{nameOf(current.classId)}</b> ({(100 * Math.max(...current.probabilities)).toFixed(0)} %), entropy{' '}
            {current.entropy.toFixed(3)}
          </p>
          {current.review?.decision === 'skipped' && <p className="muted">skipped earlier</p>}
          <div className="row wrap">
            <button className="primary" data-testid="review-accept" onClick={() => props.onAccept(current)} title="Enter">
              Accept (Enter)
            </button>
            <button data-testid="review-skip" onClick={() => props.onSkip(current)} title="S">
              Skip (S)
            </button>
            {runClasses
              .filter((c) => c.id !== current.classId)
              .map((c) => (
                <button key={c.id} onClick={() => props.onAccept(current, c.id)} title={c.shortcut ? `key ${c.shortcut}` : ''}>
                  {c.shortcut ? `${c.shortcut}: ` : ''}
                  {c.name}
                </button>
              ))}
          </div>
          <p className="muted">Enter accepts · a class key corrects and accepts · S skips · ? all keys</p>
        </div>
      ) : (
        <p className="muted">Nothing left to review.</p>
      )}
      <h3>
        Patches by{' '}
        <select
          className="fit"
          aria-label="Sort patches by"
          value={props.sort}
          onChange={(e) => props.onSort(e.target.value as 'uncertainty' | 'probability')}
        >
          <option value="uncertainty">uncertainty</option>
          <option value="probability">probability of the heatmap's class</option>
        </select>
      </h3>
      <ol className="prediction-list">
        {sorted.slice(0, 200).map((p) => (
          <li key={p.id}>
            <button className="link" onClick={() => props.onPick(p)}>
              {nameOf(p.classId)} · p{' '}
              {(mode.kind === 'probability' ? p.probabilities[mode.index] : Math.max(...p.probabilities)).toFixed(2)} · H{' '}
              {p.entropy.toFixed(2)}
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
