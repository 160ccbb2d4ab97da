// A new training run: model, method, classes (or a level of the tree), the labels that will
// be used and their split, and the paper's defaults with the rest folded away.
import { useEffect, useMemo, useState } from 'react';
import { flattenClassTree } from '@shared/classes';
import type { ClassNode, ModelRecord, PlanClass } from '@shared/domain';
import { PAPER_DEFAULTS, type ProjectionName } from '@shared/training';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';

const paper = PAPER_DEFAULTS.train;

export function NewRunForm({ models, classes, onStarted }: { models: ModelRecord[]; classes: ClassNode[]; onStarted: () => void }) {
  const flat = useMemo(() => flattenClassTree(classes), [classes]);
  const levels = [...new Set(flat.map((f) => f.level))].sort((a, b) => a - b);
  const [level, setLevel] = useState<number | 'custom'>(Math.max(1, ...levels));
  const [chosen, setChosen] = useState<number[]>([]);
  const [modelId, setModelId] = useState<number | null>(null);
  const [method, setMethod] = useState<'lora' | 'linear'>('lora');
  const [plan, setPlan] = useState<PlanClass[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [lr, setLr] = useState(String(paper.lr));
  const [steps, setSteps] = useState('');
  const [rank, setRank] = useState(String(paper.lora.rank));
  const [targets, setProjectionNames] = useState<ProjectionName[]>(paper.lora.targets ?? []);
  const [seed, setSeed] = useState(String(paper.seed));

  // A level of the tree picks its classes that have labels (leaves of a flat list: level 0).
  useEffect(() => {
    if (level === 'custom') return;
    setChosen(flat.filter((f) => f.level === level && f.node.totalCount > 0).map((f) => f.node.id));
  }, [level, flat]);
  useEffect(() => {
    if (modelId === null && models.length) setModelId(models[0].id);
  }, [models, modelId]);
  useEffect(() => {
    if (chosen.length < 2) return setPlan(null);
    client.call('training:plan', { classIds: chosen, seed: Number(seed) || paper.seed }).then(
      (p) => (setPlan(p), setProblem(null)),
      (e: Error) => (setPlan(null), setProblem(e.message)),
    );
  }, [chosen, seed, classes]);

  const start = async () => {
    try {
      await client.call('runs:start', {
        modelId: modelId!,
        method,
        classIds: chosen,
        seed: Number(seed) || paper.seed,
        settings: {
          lr: Number(lr),
          ...(steps ? { steps: Number(steps) } : {}),
          ...(method === 'lora' ? { rank: Number(rank), targets } : {}),
        },
      });
      onStarted();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

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
        <div className="row">
          <label>
            <input type="radio" checked={method === 'lora'} onChange={() => setMethod('lora')} /> LoRA fine-tuning
          </label>
          <label>
            <input type="radio" data-testid="method-linear" checked={method === 'linear'} onChange={() => setMethod('linear')} /> Linear
            probe
          </label>
        </div>
        <label>Classes</label>
        <div>
          {levels.length > 1 && (
            <select value={level} onChange={(e) => setLevel(e.target.value === 'custom' ? 'custom' : Number(e.target.value))}>
              {levels.map((d) => (
                <option key={d} value={d}>
                  level {d} of the tree
                </option>
              ))}
              <option value="custom">choose…</option>
            </select>
          )}
          <div className="class-checks">
            {flat.map(({ node, level: nodeLevel }) => (
              <label key={node.id} style={{ paddingLeft: (nodeLevel - 1) * 12 }}>
                <input
                  type="checkbox"
                  data-testid={`train-class-${node.name}`}
                  checked={chosen.includes(node.id)}
                  onChange={(e) => {
                    setLevel('custom');
                    setChosen((c) => (e.target.checked ? [...c, node.id] : c.filter((x) => x !== node.id)));
                  }}
                />{' '}
                <span className="dot" style={{ background: node.color }} /> {node.name}
              </label>
            ))}
          </div>
        </div>
      </div>
      {plan && (
        <table className="plan" data-testid="plan">
          <thead>
            <tr>
              <th>class</th>
              <th>training</th>
              <th>validation</th>
            </tr>
          </thead>
          <tbody>
            {plan.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{c.train}</td>
                <td>{c.val}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details className="advanced">
        <summary>Advanced settings (defaults from the paper)</summary>
        <div className="form-grid">
          <label>Learning rate</label>
          <input value={lr} onChange={(e) => setLr(e.target.value)} />
          <label>Steps</label>
          <input data-testid="run-steps" placeholder="50 + 100 × shots" value={steps} onChange={(e) => setSteps(e.target.value)} />
          <label>Seed</label>
          <input value={seed} onChange={(e) => setSeed(e.target.value)} />
          {method === 'lora' && (
            <>
              <label>LoRA rank</label>
              <input value={rank} onChange={(e) => setRank(e.target.value)} />
              <label>ProjectionNames</label>
              <div className="row">
                {(['q', 'k', 'v', 'o'] as ProjectionName[]).map((t) => (
                  <label key={t}>
                    <input
                      type="checkbox"
                      checked={targets.includes(t)}
                      onChange={(e) => setProjectionNames((x) => (e.target.checked ? [...x, t] : x.filter((y) => y !== t)))}
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
      <button className="primary" data-testid="start-run" disabled={!plan || modelId === null} onClick={start}>
        Start training
      </button>
    </section>
  );
}
