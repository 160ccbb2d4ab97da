// Models, a new run, and the run history; two runs can be put side by side.
import { useCallback, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { ClassNode } from '@shared/domain';
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
  // A run that starts or ends changes the history.
  useEvent(
    'job:progress',
    useCallback((p: JobProgress) => p.status !== 'running' && setLocal((v) => v + 1), []),
  );

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
                  <tr key={r.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Show run ${r.id}`}
                        checked={shown.includes(r.id)}
                        onChange={(e) => setShown((s) => (e.target.checked ? [...s, r.id].slice(-2) : s.filter((x) => x !== r.id)))}
                      />
                    </td>
                    <td>#{r.id}</td>
                    <td>{String(r.config.method)}</td>
                    <td>{r.status}</td>
                    <td>{val === undefined ? '' : `${(100 * val).toFixed(1)} %`}</td>
                    <td className="muted">{new Date(r.createdAt).toLocaleString()}</td>
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
            images={images.value ?? []}
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
