// One run: its full configuration, data snapshot, metrics, curves and confusion matrix;
// cancel or resume it; classify slides and images with it.
import { useCallback, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { ImageSummary, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import { useEvent, useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { ConfusionMatrix, type ValidationItem } from './ConfusionMatrix';
import { RunCharts } from './RunCharts';

const pct = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(1)} %` : '–');
const eta = (s?: number) =>
  s === undefined || !Number.isFinite(s) ? '' : s > 90 ? `${Math.round(s / 60)} min left` : `${Math.round(s)} s left`;

export function RunDetails({
  run,
  images,
  onChanged,
  onOpenLabel,
  onOpenResults,
}: {
  run: RunRecord;
  images: ImageSummary[];
  onChanged: () => void;
  onOpenLabel: (annotationId: number) => void;
  onOpenResults: (imageId: number, runId: number) => void;
}) {
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState<JobProgress | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [targets, setTargets] = useState<number[]>([]);
  const [exported, setExported] = useState<string | null>(null);
  const metrics = useQuery('runs:metrics', { runId: run.id }, version);
  useEvent(
    'job:progress',
    useCallback(
      (p: JobProgress) => {
        if (p.runId !== run.id) return;
        setLive(p);
        if (p.kind === 'train') setVersion((v) => v + 1);
        if (p.status !== 'running' && p.status !== 'queued') onChanged();
      },
      [run.id, onChanged],
    ),
  );
  const act = (fn: () => Promise<unknown>) => fn().then(onChanged, (e: Error) => setProblem(e.message));
  const m = run.metrics as {
    val?: { top1: number; balancedAccuracy: number } | null;
    train?: { top1: number } | null;
    steps?: number;
    seconds?: number;
    classNames?: string[];
    validation?: ValidationItem[];
    trainableParameters?: number;
  } | null;
  const cfg = run.config as {
    method: string;
    model: string;
    classes: { name: string; train: number; val: number }[];
    settings: Record<string, unknown>;
  };
  const running = run.status === 'running' || run.status === 'queued';

  return (
    <section className="card run-details" data-testid={`run-${run.id}`}>
      <h2>
        Run {run.id} · {cfg.method === 'lora' ? 'LoRA' : 'linear probe'} · <span data-testid="run-status">{run.status}</span>
      </h2>
      {live && live.kind === 'train' && running && (
        <div className="progress" data-testid="train-progress">
          <progress max={live.total} value={live.step} /> step {live.step}/{live.total} · loss {live.loss?.toFixed(4)} · acc{' '}
          {pct(live.accuracy)} · lr {live.lr?.toExponential(1)} · {live.imagesPerSecond?.toFixed(1)} img/s · {eta(live.etaSeconds)}
        </div>
      )}
      {live && live.kind === 'classify' && (live.status === 'running' || live.status === 'queued') && (
        <div className="progress" data-testid="classify-progress">
          classifying <progress max={live.total} value={live.step} /> {live.step}/{live.total} patches · {live.imagesPerSecond?.toFixed(1)}{' '}
          patches/s · {eta(live.etaSeconds)}
        </div>
      )}
      <div className="row">
        {running && <button onClick={() => act(() => client.call('runs:cancel', { runId: run.id }))}>Cancel</button>}
        {run.status === 'completed' && (
          <button
            data-testid="export-adapter"
            onClick={() => act(async () => setExported((await client.call('runs:exportAdapter', { runId: run.id })).path))}
          >
            Export adapter
          </button>
        )}
        {exported && <span className="muted">saved as {exported}</span>}
        {(run.status === 'cancelled' || run.status === 'failed') && (
          <button onClick={() => act(() => client.call('runs:resume', { runId: run.id }))}>Resume from checkpoint</button>
        )}
      </div>
      {run.error && <pre className="error-text">{run.error}</pre>}
      <RunCharts metrics={metrics.value ?? []} />
      {m && (
        <p data-testid="run-metrics">
          validation accuracy <b>{pct(m.val?.top1)}</b> (balanced {pct(m.val?.balancedAccuracy)}) · training {pct(m.train?.top1)} ·{' '}
          {m.steps} steps in {m.seconds?.toFixed(0)} s · {m.trainableParameters?.toLocaleString()} trainable parameters
        </p>
      )}
      {m?.validation && m.classNames && <ConfusionMatrix classNames={m.classNames} items={m.validation} onOpen={onOpenLabel} />}
      <details>
        <summary>Configuration and data</summary>
        <p>
          model {cfg.model} · seed {run.seed} · classes {cfg.classes.map((c) => `${c.name} (${c.train} + ${c.val})`).join(', ')}
        </p>
        <pre className="config">{JSON.stringify(cfg.settings, null, 2)}</pre>
      </details>
      {run.status === 'completed' && (
        <div className="classify">
          <h3>Classify</h3>
          <div className="class-checks">
            {images.map((img) => (
              <label key={img.id}>
                <input
                  type="checkbox"
                  data-testid={`classify-image-${img.id}`}
                  checked={targets.includes(img.id)}
                  onChange={(e) => setTargets((t) => (e.target.checked ? [...t, img.id] : t.filter((x) => x !== img.id)))}
                />{' '}
                {img.path.split(/[\\/]/).pop()} {img.kind === 'slide' ? '(slide)' : ''}
                {img.kind === 'slide' && (
                  <button className="link" onClick={() => onOpenResults(img.id, run.id)}>
                    results
                  </button>
                )}
              </label>
            ))}
          </div>
          <button
            className="primary"
            data-testid="classify-start"
            disabled={!targets.length}
            onClick={() => act(() => client.call('classify:start', { runId: run.id, imageIds: targets }))}
          >
            Classify {targets.length} image{targets.length === 1 ? '' : 's'}
          </button>
        </div>
      )}
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
    </section>
  );
}
