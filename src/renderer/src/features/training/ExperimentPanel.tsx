// The paper's experiment grid from the workstation: a labelled folder, some of this
// project's models, the grid; progress per cell; when done, the summary tables and figures.
import { useCallback, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { JobSummary, ModelRecord } from '@shared/domain';
import { client, experimentFigureUrl } from '../../api/client';
import { useEvent, useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FolderPicker } from '../../components/FolderPicker';
import { PAPER_DEFAULTS } from '@shared/training';
import { Markdown } from '../../components/Markdown';

const numbers = (s: string) =>
  s
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isFinite(x) && x > 0);

export function ExperimentPanel({ models }: { models: ModelRecord[] }) {
  const [dataDir, setDataDir] = useState('');
  const [picking, setPicking] = useState(false);
  const [modelIds, setModelIds] = useState<number[]>([]);
  const [methods, setMethods] = useState<('lora' | 'linear')[]>(['linear', 'lora']);
  const [shots, setShots] = useState('1,2,4,8,16');
  const [seeds, setSeeds] = useState(PAPER_DEFAULTS.grid.seeds.join(','));
  const [lrs, setLrs] = useState(PAPER_DEFAULTS.grid.lrs.join(','));
  const [budget, setBudget] = useState('');
  const [percents, setPercents] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState<Record<string, JobProgress>>({});
  const jobs = useQuery('jobs:list', {}, version);
  useEvent(
    'job:progress',
    useCallback((p: JobProgress) => {
      if (p.kind !== 'experiment') return;
      setLive((l) => ({ ...l, [p.jobId]: p }));
      if (p.status !== 'running') setVersion((v) => v + 1);
    }, []),
  );

  const start = () =>
    client
      .call('experiments:start', {
        dataDir: dataDir.trim(),
        modelIds,
        methods,
        shots: numbers(shots).map(Math.round),
        seeds: seeds
          .split(',')
          .map((x) => Number(x.trim()))
          .filter(Number.isInteger),
        lrs: numbers(lrs),
        ...(numbers(percents).length ? { percents: numbers(percents).filter((p) => p <= 100) } : {}),
        ...(Number(budget) > 0 ? { budgetMinutes: Number(budget) } : {}),
      })
      .then(
        () => (setProblem(null), setVersion((v) => v + 1)),
        (e: Error) => setProblem(e.message),
      );

  const experiments = (jobs.value ?? []).filter((j) => j.kind === 'experiment');
  return (
    <section className="card" aria-label="Experiments">
      <h2>Experiments (the paper's grid)</h2>
      <p className="muted">
        On a labelled folder (<code>class/image</code>, or <code>train/ val/ test/</code>): for each model, method, shots and seed, every
        learning rate; the rate is chosen on validation, test accuracy reported as mean ± std over seeds. Same as{' '}
        <code>cytotune experiment</code>.
      </p>
      <div className="form-grid">
        <label>Data folder</label>
        <div className="row">
          <input
            data-testid="exp-data"
            value={dataDir}
            onChange={(e) => setDataDir(e.target.value)}
            placeholder="/data/sipakmed"
            title={dataDir}
          />
          <button onClick={() => setPicking(true)}>Browse…</button>
        </div>
        <label>Models</label>
        <div className="class-checks">
          {models.map((m) => (
            <label key={m.id}>
              <input
                type="checkbox"
                data-testid="exp-model"
                checked={modelIds.includes(m.id)}
                onChange={(e) => setModelIds((x) => (e.target.checked ? [...x, m.id] : x.filter((y) => y !== m.id)))}
              />{' '}
              <span className="ellipsis" title={m.path}>
                {m.path.split(/[\\/]/).pop()} ({m.family})
              </span>
            </label>
          ))}
        </div>
        <label>Methods</label>
        <div className="row">
          {(['linear', 'lora'] as const).map((k) => (
            <label key={k}>
              <input
                type="checkbox"
                data-testid={`exp-method-${k}`}
                checked={methods.includes(k)}
                onChange={(e) => setMethods((x) => (e.target.checked ? [...x, k] : x.filter((y) => y !== k)))}
              />{' '}
              {k === 'lora' ? 'LoRA' : 'linear probe'}
            </label>
          ))}
        </div>
        <label>Shots</label>
        <input data-testid="exp-shots" value={shots} onChange={(e) => setShots(e.target.value)} />
        <label title="Percentages of the training split, the paper's Figure 2 (none: few-shot only)">Data %</label>
        <input
          data-testid="exp-percents"
          value={percents}
          onChange={(e) => setPercents(e.target.value)}
          placeholder="e.g. 10,50,100 (optional)"
        />
        <label>Seeds</label>
        <input data-testid="exp-seeds" value={seeds} onChange={(e) => setSeeds(e.target.value)} />
        <label>Learning rates</label>
        <input data-testid="exp-lrs" value={lrs} onChange={(e) => setLrs(e.target.value)} />
        <label>Budget (minutes)</label>
        <input value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="no limit" />
      </div>
      <button className="primary" data-testid="exp-start" disabled={!dataDir.trim() || !modelIds.length || !methods.length} onClick={start}>
        Start experiment
      </button>
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      {experiments.map((j) => (
        <ExperimentRow key={j.id} job={j} live={live[String(j.id)]} />
      ))}
      {picking && (
        <FolderPicker
          onCancel={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            setDataDir(p);
          }}
        />
      )}
    </section>
  );
}

function ExperimentRow({ job, live }: { job: JobSummary; live?: JobProgress }) {
  const summary = useQuery('experiments:summary', job.status === 'completed' ? { id: job.id } : null);
  const running = job.status === 'running' || job.status === 'queued';
  const number = job.number ?? job.id;
  const figures = summary.value?.figures ?? [];
  // The summary names its figures (SVG); only the files the job reported are served.
  const resolve = (src: string) => (figures.includes(src) ? experimentFigureUrl(job.id, src) : null);
  const referenced = new Set([...(summary.value?.markdown.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g) ?? [])].map((m) => m[1]));
  // Figures the text does not show (an SVG-less report): each once, the SVG when there is one.
  const extra = figures.filter(
    (f) => !referenced.has(f) && (f.endsWith('.svg') || (f.endsWith('.png') && !figures.includes(f.replace(/\.png$/, '.svg')))),
  );
  return (
    <div className="experiment" data-testid={`experiment-${number}`}>
      <b>Experiment {number}</b> · {job.status}
      {running && live && (
        <span>
          {' '}
          · cell {live.step}/{live.total} {live.phase ?? ''}
          {live.etaSeconds ? ` · ${Math.round(live.etaSeconds / 60)} min left` : ''}
          <button className="link" onClick={() => client.call('jobs:cancel', { id: job.id })}>
            stop
          </button>
        </span>
      )}
      {job.error && <div className="error-text">{job.error}</div>}
      {summary.error && <div className="error-text">{summary.error}</div>}
      {summary.value && (
        <details open className="experiment-summary">
          <summary>Summary and figures</summary>
          <Markdown text={summary.value.markdown} resolveImage={resolve} />
          {extra.map((f) => (
            <img key={f} className="figure" src={experimentFigureUrl(job.id, f)} alt={f} title={f} />
          ))}
        </details>
      )}
    </div>
  );
}
