// One run: its full configuration, data snapshot, metrics, curves and confusion matrix;
// cancel or resume it; classify slides and images with it.
import { useCallback, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { ImageSummary, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import { useEvent, useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { plural } from '../../components/plural';
import { ConfusionMatrix, type ValidationItem } from './ConfusionMatrix';
import { RunCharts } from './RunCharts';
import { Int8Note } from './Int8Note';

const pct = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(1)} %` : '–');
const eta = (s?: number) =>
  s === undefined || !Number.isFinite(s) ? '' : s > 90 ? ` · ${Math.round(s / 60)} min left` : ` · ${Math.round(s)} s left`;

interface Props {
  run: RunRecord;
  /** The status to show ("cancelling…" while a cancel is on its way). */
  status: string;
  images: ImageSummary[];
  onCancel: () => Promise<void>;
  onChanged: () => void;
  onOpenLabel: (annotationId: number) => void;
  onOpenResults: (imageId: number, runId: number) => void;
}

export function RunDetails({ run, status, images, onCancel, onChanged, onOpenLabel, onOpenResults }: Props) {
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
        if (p.kind === 'train' && p.loss !== undefined) setVersion((v) => v + 1);
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
    classes: { name: string; train: number; val: number; includes?: string[] }[];
    settings: Record<string, unknown>;
  };
  const running = run.status === 'running' || run.status === 'queued';
  const training = live?.kind === 'train' && live.loss !== undefined && (live.status === 'running' || live.status === 'queued');
  const trainImages = cfg.classes.reduce((s, c) => s + c.train, 0);
  // Before the first step there is nothing to plot: say what the run is doing instead.
  const phase =
    run.status === 'queued'
      ? 'Waiting for the job before it to finish…'
      : live?.phase && live.phase !== 'training'
        ? `${live.phase[0].toUpperCase()}${live.phase.slice(1)}…`
        : cfg.method === 'linear'
          ? `Extracting features of ${plural(trainImages, 'training image')} with the frozen model; the probe's curves start after.`
          : 'Loading the model and the first batch…';
  const slides = images.filter((i) => i.kind === 'slide').map((i) => i.id);

  return (
    <section className="card run-details" data-testid={`run-${run.id}`}>
      <h2>
        Run {run.id} · {cfg.method === 'lora' ? 'LoRA' : 'linear probe'} ·{' '}
        <span data-testid="run-status" className={`status-${run.status}`}>
          {status}
        </span>
      </h2>
      {running && status !== 'cancelling…' && (
        <div className="progress" data-testid="train-progress">
          {training && live ? (
            <>
              <progress max={live.total} value={live.step} />
              <span>
                step {live.step}/{live.total} · loss {live.loss?.toFixed(4)}
                {live.accuracy !== undefined && ` · acc ${pct(live.accuracy)}`}
                {live.lr !== undefined && ` · lr ${live.lr.toExponential(1)}`}
                {live.imagesPerSecond !== undefined && ` · ${live.imagesPerSecond.toFixed(1)} img/s`}
                {eta(live.etaSeconds)}
              </span>
            </>
          ) : live?.kind === 'train' && live.phase === 'extracting features' && live.total > 0 ? (
            <>
              <progress max={live.total} value={live.step} />
              <span data-testid="feature-progress">
                extracting features · {live.step}/{plural(live.total, 'image')}
                {live.imagesPerSecond !== undefined && ` · ${live.imagesPerSecond.toFixed(1)} img/s`}
                {eta(live.etaSeconds)}
              </span>
            </>
          ) : (
            <span className="phase">{phase}</span>
          )}
        </div>
      )}
      {status === 'cancelling…' && (
        <div className="progress muted" data-testid="train-progress">
          Cancelling: the run stops after its current step and keeps a checkpoint to resume from.
        </div>
      )}
      {live && live.kind === 'classify' && (live.status === 'running' || live.status === 'queued') && (
        <div className="progress" data-testid="classify-progress">
          classifying <progress max={live.total} value={live.step} /> {live.step}/{live.total} patches
          {live.imagesPerSecond !== undefined && ` · ${live.imagesPerSecond.toFixed(1)} patches/s`}
          {eta(live.etaSeconds)}
        </div>
      )}
      <div className="row wrap">
        {running && (
          <button
            data-testid="run-cancel"
            disabled={status === 'cancelling…'}
            onClick={() => onCancel().catch((e: Error) => setProblem(e.message))}
          >
            Cancel
          </button>
        )}
        {run.status === 'completed' && (
          <button
            data-testid="export-adapter"
            onClick={() => act(async () => setExported((await client.call('runs:exportAdapter', { runId: run.id })).path))}
          >
            Export adapter
          </button>
        )}
        {exported && (
          <span className="muted ellipsis" title={exported}>
            saved as {exported}
          </span>
        )}
        {(run.status === 'cancelled' || run.status === 'failed') && (
          <button data-testid="run-resume" onClick={() => act(() => client.call('runs:resume', { runId: run.id }))}>
            Resume from checkpoint
          </button>
        )}
      </div>
      {run.error && !running && (
        <pre className="error-text" data-testid="run-error">
          {run.error}
        </pre>
      )}
      <RunCharts metrics={metrics.value ?? []} />
      {m && (
        <p data-testid="run-metrics">
          validation accuracy <b>{pct(m.val?.top1)}</b> (balanced {pct(m.val?.balancedAccuracy)}) · training {pct(m.train?.top1)} ·{' '}
          {m.steps} steps in {m.seconds?.toFixed(0)} s · {m.trainableParameters?.toLocaleString()} trainable parameters
        </p>
      )}
      <Int8Note metrics={run.metrics} />
      {m?.validation && m.classNames && <ConfusionMatrix classNames={m.classNames} items={m.validation} onOpen={onOpenLabel} />}
      <details>
        <summary>Configuration and data</summary>
        <p>
          model {cfg.model} · seed {run.seed} · classes{' '}
          {cfg.classes.map((c) => `${c.name}${c.includes ? ` (with ${c.includes.join(', ')})` : ''} (${c.train} + ${c.val})`).join(', ')}
        </p>
        <pre className="config">{JSON.stringify(cfg.settings, null, 2)}</pre>
      </details>
      {run.status === 'completed' && (
        <div className="classify">
          <h3>Classify</h3>
          <div className="row wrap">
            <button data-testid="classify-all" onClick={() => setTargets(images.map((i) => i.id))}>
              All ({images.length})
            </button>
            <button data-testid="classify-all-slides" disabled={!slides.length} onClick={() => setTargets(slides)}>
              All slides ({slides.length})
            </button>
            <button data-testid="classify-none" disabled={!targets.length} onClick={() => setTargets([])}>
              None
            </button>
          </div>
          <div className="class-checks">
            {images.map((img) => {
              const name = img.path.split(/[\\/]/).pop();
              return (
                <label key={img.id} title={img.path}>
                  <input
                    type="checkbox"
                    data-testid={`classify-image-${img.id}`}
                    checked={targets.includes(img.id)}
                    onChange={(e) => setTargets((t) => (e.target.checked ? [...t, img.id] : t.filter((x) => x !== img.id)))}
                  />{' '}
                  <span className="ellipsis">{name}</span> {img.kind === 'slide' ? '(slide)' : ''}
                  {img.kind === 'slide' && (
                    <button className="link" onClick={() => onOpenResults(img.id, run.id)}>
                      results
                    </button>
                  )}
                </label>
              );
            })}
          </div>
          <button
            className="primary"
            data-testid="classify-start"
            disabled={!targets.length}
            onClick={() => act(() => client.call('classify:start', { runId: run.id, imageIds: targets }))}
          >
            Classify {plural(targets.length, 'image')}
          </button>
        </div>
      )}
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
    </section>
  );
}
