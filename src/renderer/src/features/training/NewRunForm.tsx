// A new training run: model, method, classes (or a level of the tree), the labels that will
// be used and their split, what the run will take (steps, speed, minutes) with Quick and Paper
// presets, the warnings worth reading first, and the paper's defaults with the rest folded away.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode, ModelRecord, TrainingEstimate } from '@shared/domain';
import { PAPER_DEFAULTS, type ProjectionName } from '@shared/training';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { plural } from '../../components/plural';
import { classesAtLevel, treeLevels } from './treeLevels';
import { useJob } from '../cells/useJob';

const paper = PAPER_DEFAULTS.train;
/** Quick: a tenth of the paper's iterations (LoRA) or a fifth of its epochs (linear probe). */
const QUICK_ITERS = 10;
const QUICK_EPOCHS = 20;

type Preset = 'paper' | 'quick' | 'custom';

export function duration(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds - 3600 * h) / 60);
  return `about ${h} h${m ? ` ${m} min` : ''}`;
}

const rate = (v: number) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));

export function NewRunForm({ models, classes, onStarted }: { models: ModelRecord[]; classes: ClassNode[]; onStarted: () => void }) {
  const flat = useMemo(() => flattenClassTree(classes), [classes]);
  const levels = treeLevels(flat);
  const deepest = Math.max(1, ...levels);
  const [level, setLevel] = useState<number | 'custom' | null>(null);
  // Until the user picks a level, the deepest one (the tree may load after the form).
  const shownLevel = level ?? deepest;
  const [chosen, setChosen] = useState<number[]>([]);
  const [modelId, setModelId] = useState<number | null>(null);
  const [method, setMethod] = useState<'lora' | 'linear'>('lora');
  const [estimate, setEstimate] = useState<TrainingEstimate | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [preset, setPreset] = useState<Preset>('paper');
  const [lr, setLr] = useState(String(paper.lr));
  const [steps, setSteps] = useState('');
  const [epochs, setEpochs] = useState('');
  const [rank, setRank] = useState(String(paper.lora.rank));
  const [targets, setTargets] = useState<ProjectionName[]>(paper.lora.targets ?? []);
  const [seed, setSeed] = useState(String(paper.seed));
  // The speed check (a few real steps in the worker) started for the current estimate, if any.
  const [speedJob, setSpeedJob] = useState<number | null>(null);
  const [measured, setMeasured] = useState(0);
  const speed = useJob(
    'speed',
    null,
    speedJob,
    useCallback(() => setMeasured((n) => n + 1), []),
  );

  // A level of the tree picks its classes that have labels, and the leaves that stop above it.
  useEffect(() => {
    if (shownLevel === 'custom') return;
    setChosen(classesAtLevel(flat, shownLevel).map((n) => n.id));
  }, [shownLevel, flat]);
  useEffect(() => {
    if (modelId === null && models.length) setModelId(models[0].id);
  }, [models, modelId]);

  const request = useMemo(
    () =>
      modelId === null || chosen.length < 2
        ? null
        : {
            modelId,
            method,
            classIds: chosen,
            seed: Number(seed) || paper.seed,
            settings: {
              lr: Number(lr) || paper.lr,
              ...(method === 'lora' && Number(steps) > 0 ? { steps: Math.round(Number(steps)) } : {}),
              ...(method === 'linear' && Number(epochs) > 0 ? { epochs: Math.round(Number(epochs)) } : {}),
              ...(method === 'lora' ? { rank: Number(rank) || paper.lora.rank, targets } : {}),
            },
          },
    [modelId, method, chosen, seed, lr, steps, epochs, rank, targets],
  );
  useEffect(() => {
    if (!request) return setEstimate(null);
    let live = true;
    const timer = setTimeout(
      () =>
        client.call('training:estimate', request).then(
          (e) => live && (setEstimate(e), setProblem(null)),
          (e: Error) => live && (setEstimate(null), setProblem(e.message)),
        ),
      150,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [request, classes, measured]);

  // An estimate from the model's size is replaced by this computer's speed on this run's images:
  // the worker times a few real steps (once per model and method; nothing starts while it is busy).
  const measureKey =
    estimate?.speedSource === 'model size' && estimate.problems.length === 0 && request ? `${request.modelId}:${request.method}` : null;
  const latestRequest = useRef(request);
  latestRequest.current = request;
  useEffect(() => {
    // Once per model and method: the other settings do not change images/s.
    if (!measureKey || !latestRequest.current) return;
    let live = true;
    client.call('training:measureSpeed', latestRequest.current).then(
      (job) => live && job && setSpeedJob(job.id),
      () => {}, // the model-size estimate stays; Start reports any real problem
    );
    return () => {
      live = false;
    };
  }, [measureKey]);

  const applyPreset = (p: Exclude<Preset, 'custom'>) => {
    setPreset(p);
    setLr(String(paper.lr));
    if (p === 'paper') {
      setSteps('');
      setEpochs('');
      setRank(String(paper.lora.rank));
      setTargets(paper.lora.targets ?? []);
    } else {
      const batches = Math.max(1, Math.ceil((estimate?.trainImages ?? 1) / (estimate?.batchSize ?? paper.batchSize)));
      setSteps(String(paper.warmupSteps + QUICK_ITERS * batches));
      setEpochs(String(QUICK_EPOCHS));
    }
  };
  const custom =
    <T,>(set: (v: T) => void) =>
    (v: T) => (setPreset('custom'), set(v));

  const start = async () => {
    if (!request) return;
    try {
      await client.call('runs:start', request);
      onStarted();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  const blocked = !estimate || estimate.problems.length > 0;
  return (
    <section className="card" aria-label="New training run">
      <h2>New run</h2>
      <div className="form-grid">
        <label>Model</label>
        <select data-testid="run-model" value={modelId ?? ''} onChange={(e) => setModelId(Number(e.target.value))}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.path.split(/[\\/]/).pop()} ({m.family})
            </option>
          ))}
        </select>
        <label>Method</label>
        <div className="row wrap">
          <label>
            <input type="radio" checked={method === 'lora'} onChange={() => setMethod('lora')} /> LoRA fine-tuning
          </label>
          <label>
            <input type="radio" data-testid="method-linear" checked={method === 'linear'} onChange={() => setMethod('linear')} /> Linear
            probe
          </label>
        </div>
        <label>Classes</label>
        <div className="min0">
          {levels.length > 1 && (
            <select
              data-testid="train-level"
              value={shownLevel}
              onChange={(e) => setLevel(e.target.value === 'custom' ? 'custom' : Number(e.target.value))}
            >
              {levels.map((d) => (
                <option key={d} value={d}>
                  level {d} of the tree ({plural(classesAtLevel(flat, d).length, 'class')})
                </option>
              ))}
              <option value="custom">choose…</option>
            </select>
          )}
          <div className="class-checks">
            {flat.map(({ node, level: nodeLevel }) => (
              <label key={node.id} style={{ paddingLeft: (nodeLevel - 1) * 12 }} title={node.name}>
                <input
                  type="checkbox"
                  data-testid={`train-class-${node.name}`}
                  checked={chosen.includes(node.id)}
                  onChange={(e) => {
                    setLevel('custom');
                    setChosen((c) => (e.target.checked ? [...c, node.id] : c.filter((x) => x !== node.id)));
                  }}
                />{' '}
                <span className="dot" style={{ background: node.color }} /> <span className="ellipsis">{node.name}</span>
                <span className="muted"> {node.totalCount}</span>
              </label>
            ))}
          </div>
        </div>
      </div>
      {estimate && (
        <table className="plan" data-testid="plan">
          <thead>
            <tr>
              <th>class</th>
              <th>training</th>
              <th>validation</th>
            </tr>
          </thead>
          <tbody>
            {estimate.classes.map((c) => (
              <tr key={c.id}>
                <td title={c.includes ? `${c.name}, with ${c.includes.join(', ')}` : c.name}>
                  {c.name}
                  {c.includes && <span className="muted"> + {plural(c.includes.length, 'subclass')}</span>}
                </td>
                <td>{c.train}</td>
                <td>{c.val}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {estimate && estimate.warnings.length + estimate.problems.length > 0 && (
        <ul className="warnings" data-testid="plan-warnings">
          {estimate.problems.map((w) => (
            <li key={w} className="error-text">
              {w}
            </li>
          ))}
          {estimate.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <div className="presets row wrap">
        <span className="muted">Preset</span>
        <button className={preset === 'quick' ? 'chosen' : ''} data-testid="preset-quick" onClick={() => applyPreset('quick')}>
          Quick
        </button>
        <button className={preset === 'paper' ? 'chosen' : ''} data-testid="preset-paper" onClick={() => applyPreset('paper')}>
          Paper
        </button>
        <span className="muted">
          {preset === 'quick'
            ? method === 'lora'
              ? `a tenth of the paper's iterations: a first look`
              : `${QUICK_EPOCHS} epochs instead of ${paper.epochs}`
            : preset === 'paper'
              ? method === 'lora'
                ? `the paper's length: ${paper.warmupSteps} + ${paper.nIters} × batches per epoch`
                : `${paper.epochs} epochs, as the paper`
              : 'custom settings'}
        </span>
      </div>
      {estimate && (
        <p
          className="estimate"
          data-testid="estimate"
          data-steps={estimate.steps}
          data-seconds={estimate.seconds}
          title={
            estimate.speedSource === 'measured'
              ? 'Speed measured on this computer: a few timed steps of this model, or its earlier runs here'
              : "Speed estimated from the model's size until a few real steps have been timed"
          }
        >
          <b>{estimate.steps.toLocaleString()} steps</b> of up to {plural(Math.min(estimate.batchSize, estimate.trainImages), 'image')} ·{' '}
          {rate(estimate.imagesPerSecond)} images/s ({estimate.speedSource === 'measured' ? 'measured here' : "from the model's size"}) ·{' '}
          <b>{duration(estimate.seconds)}</b>
          {speed.live && (
            <span className="muted" data-testid="measuring-speed">
              {' '}
              · measuring the speed on {speed.live.total || 3} real steps…
            </span>
          )}
        </p>
      )}
      <details className="advanced">
        <summary>Advanced settings (defaults from the paper)</summary>
        <div className="form-grid">
          <label>Learning rate</label>
          <input value={lr} onChange={(e) => custom(setLr)(e.target.value)} />
          {method === 'lora' ? (
            <>
              <label>Steps</label>
              <input
                data-testid="run-steps"
                placeholder={`${paper.warmupSteps} + ${paper.nIters} × batches per epoch`}
                value={steps}
                onChange={(e) => custom(setSteps)(e.target.value)}
              />
            </>
          ) : (
            <>
              <label>Epochs</label>
              <input
                data-testid="run-epochs"
                placeholder={String(paper.epochs)}
                value={epochs}
                onChange={(e) => custom(setEpochs)(e.target.value)}
              />
            </>
          )}
          <label>Seed</label>
          <input value={seed} onChange={(e) => setSeed(e.target.value)} />
          {method === 'lora' && (
            <>
              <label>LoRA rank</label>
              <input value={rank} onChange={(e) => custom(setRank)(e.target.value)} />
              <label>Projections</label>
              <div className="row">
                {(['q', 'k', 'v', 'o'] as ProjectionName[]).map((t) => (
                  <label key={t}>
                    <input
                      type="checkbox"
                      checked={targets.includes(t)}
                      onChange={(e) => custom(setTargets)(e.target.checked ? [...targets, t] : targets.filter((y) => y !== t))}
                    />{' '}
                    {t}
                  </label>
                ))}
              </div>
            </>
          )}
        </div>
      </details>
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      <button className="primary" data-testid="start-run" disabled={blocked || modelId === null} onClick={start}>
        Start training
      </button>
    </section>
  );
}
