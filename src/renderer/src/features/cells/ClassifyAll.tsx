// "Classify cells of all slides" with a run: one queued job over every detected cell of every
// slide, with progress, time left and cancel; the views reload when it ends.
import { useCallback, useState } from 'react';
import type { RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { ClassifyJobResult } from '@shared/jobs';
import { Int8Note } from '../training/Int8Note';
import { timeLeft, useJob, type LiveJob } from './useJob';

export function ClassifyAll({ run, onFinished }: { run: RunRecord; onFinished: () => void }) {
  const [jobId, setJobId] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const finished = useCallback(
    (job: LiveJob) => {
      if (job.status === 'completed')
        // Which engine classified and why: the job's stored result says (int8 or full precision).
        void client
          .call('jobs:list', {})
          .then((jobs) => (jobs.find((j) => j.id === job.jobId)?.result as ClassifyJobResult | null)?.engine)
          .catch(() => undefined)
          .then((engine) =>
            setNote(
              (n) =>
                `Classified ${job.total.toLocaleString()} cells with run ${run.id}${engine ? ` on ${engine.name} (${engine.reason})` : ''}.${n ? ` ${n}` : ''}`,
            ),
          );
      else if (job.status === 'cancelled') setNote('Classification cancelled.');
      else if (job.error) setProblem(job.error);
      onFinished();
    },
    [run.id, onFinished],
  );
  const { live, cancel } = useJob('classify', run.id, jobId, finished);

  // Slides without detected cells yet are left out (and named), rather than refusing them all.
  const start = async () => {
    setProblem(null);
    setNote(null);
    try {
      const slides = (await client.call('images:list', { limit: 5000 })).filter((i) => i.kind === 'slide');
      const runs = await Promise.all(slides.map((s) => client.call('cells:runs', { imageId: s.id })));
      const detected = slides.filter((_, i) => runs[i].some((r) => r.status === 'completed'));
      if (detected.length === 0) throw new Error('No slide has detected cells yet: open a slide and use “Detect cells” first.');
      const skipped = slides.filter((s) => !detected.includes(s)).map((s) => s.path.split(/[\\/]/).pop());
      const imageIds = skipped.length ? detected.map((s) => s.id) : 'all-slides';
      setJobId((await client.call('cells:classify', { runId: run.id, imageIds })).id);
      if (skipped.length) setNote(`Left out (no detected cells yet): ${skipped.join(', ')}.`);
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  return (
    <div className="cells-classify">
      {live ? (
        <div className="progress" data-testid="cells-classify-progress">
          <span>{live.phase ? live.phase.replace('classifying', 'classifying cells') : 'classifying cells'}</span>
          <progress max={live.total || 1} value={live.step} />
          <span>
            {live.total ? `${live.step.toLocaleString()}/${live.total.toLocaleString()}` : live.status}
            {live.perSecond ? ` · ${live.perSecond.toFixed(0)} cells/s` : ''} · {timeLeft(live.etaSeconds)}
          </span>
          <button onClick={() => void cancel().catch((e: Error) => setProblem(e.message))}>Cancel</button>
        </div>
      ) : (
        <div className="row spaced">
          <button
            className="primary"
            data-testid="cells-classify-all"
            title="Classify every detected cell of every slide with this run, at the scale it was trained on"
            onClick={() => void start()}
          >
            Classify cells of all slides
          </button>
          {note && (
            <span className="muted" data-testid="cells-classify-note">
              {note}
            </span>
          )}
        </div>
      )}
      <Int8Note metrics={run.metrics} />
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
    </div>
  );
}
