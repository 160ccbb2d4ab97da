// Models, a new run, and the run history; two runs can be put side by side.
import { useCallback, useRef, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { ClassNode, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import { useEvent, useQuery } from '../../api/hooks';
import { ModelsPanel } from './ModelsPanel';
import { NewRunForm } from './NewRunForm';
import { RunDetails } from './RunDetails';
import { ExperimentPanel } from './ExperimentPanel';

interface Props {
  classes: ClassNode[];
  version: number;
  onChanged: () => void;
  onOpenLabel: (annotationId: number) => void;
  onOpenResults: (imageId: number, runId: number) => void;
}

const active = (status: string) => status === 'running' || status === 'queued';

/** A run's status as the user should read it: "cancelling…" from the click until the worker stops. */
export function shownStatus(run: RunRecord, cancelling: ReadonlySet<number>): string {
  return cancelling.has(run.id) && active(run.status) ? 'cancelling…' : run.status;
}

export function TrainScreen({ classes, version, onChanged, onOpenLabel, onOpenResults }: Props) {
  const [local, setLocal] = useState(0);
  const bump = useCallback(() => {
    setLocal((v) => v + 1);
    onChanged();
  }, [onChanged]);
  const models = useQuery('models:list', {}, version + local);
  const runs = useQuery('runs:list', {}, version + local);
  const images = useQuery('images:list', { limit: 5000 }, version + local);
  const [shown, setShown] = useState<number[]>([]);
  const [cancelling, setCancelling] = useState<ReadonlySet<number>>(new Set());
  // A job that starts, ends or changes state changes the history (queued -> running -> completed).
  const lastStatus = useRef(new Map<string, string>());
  useEvent(
    'job:progress',
    useCallback((p: JobProgress) => {
      if (lastStatus.current.get(p.jobId) === p.status) return;
      lastStatus.current.set(p.jobId, p.status);
      setLocal((v) => v + 1);
      if (p.runId !== null && !active(p.status))
        setCancelling((c) => {
          if (!c.has(p.runId!)) return c;
          const next = new Set(c);
          next.delete(p.runId!);
          return next;
        });
    }, []),
  );
  const cancel = useCallback(async (runId: number) => {
    setCancelling((c) => new Set(c).add(runId));
    try {
      await client.call('runs:cancel', { runId });
    } catch (e) {
      setCancelling((c) => {
        const next = new Set(c);
        next.delete(runId);
        return next;
      });
      throw e;
    }
  }, []);

  const list = runs.value ?? [];
  const visible = shown.length ? list.filter((r) => shown.includes(r.id)) : list.slice(0, 1);
  return (
    <div className="train-screen">
      <div className="train-left">
        <ModelsPanel models={models.value ?? []} onChanged={bump} />
        {(models.value?.length ?? 0) > 0 && <NewRunForm models={models.value!} classes={classes} onStarted={bump} />}
        {(models.value?.length ?? 0) > 0 && <ExperimentPanel models={models.value!} />}
        <section className="card" aria-label="Run history">
          <h2>Runs</h2>
          <p className="muted">Tick two runs to compare them side by side.</p>
          <table className="runs" data-testid="run-history">
            <tbody>
              {list.map((r) => {
                const val = (r.metrics as { val?: { top1: number } | null } | null)?.val?.top1;
                return (
                  <tr key={r.id} data-testid={`run-row-${r.id}`}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Show run ${r.id}`}
                        checked={shown.includes(r.id)}
                        onChange={(e) => setShown((s) => (e.target.checked ? [...s, r.id].slice(-2) : s.filter((x) => x !== r.id)))}
                      />
                    </td>
                    <td>#{r.id}</td>
                    <td>{r.config.method === 'lora' ? 'LoRA' : 'linear probe'}</td>
                    <td className={`status-${r.status}`}>{shownStatus(r, cancelling)}</td>
                    <td>{val === undefined ? '' : `${(100 * val).toFixed(1)} %`}</td>
                    <td className="muted" title={new Date(r.createdAt).toLocaleString()}>
                      {new Date(r.createdAt).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      </div>
      <div className={`train-right ${visible.length > 1 ? 'compare' : ''}`}>
        {visible.map((r) => (
          <RunDetails
            key={r.id}
            run={r}
            status={shownStatus(r, cancelling)}
            images={images.value ?? []}
            onCancel={() => cancel(r.id)}
            onChanged={bump}
            onOpenLabel={onOpenLabel}
            onOpenResults={onOpenResults}
          />
        ))}
        {list.length === 0 && <p className="muted">No runs yet.</p>}
      </div>
    </div>
  );
}
