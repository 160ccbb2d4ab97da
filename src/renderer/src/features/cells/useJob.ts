// The live state of one kind of job (a slide's detection, a run's classification): progress,
// time left and cancel, picked up again when the screen is opened while the job runs.
import { useCallback, useEffect, useState } from 'react';
import type { JobProgress } from '@shared/api';
import type { JobKind } from '@shared/jobs';
import { client } from '../../api/client';
import { useEvent } from '../../api/hooks';

export interface LiveJob {
  jobId: number;
  status: JobProgress['status'];
  step: number;
  total: number;
  phase?: string;
  etaSeconds?: number;
  perSecond?: number;
  error: string | null;
}

const active = (s: string) => s === 'queued' || s === 'running';

/**
 * Follows the job `jobId` when known (started here), else the newest active job of `kind`
 * (and of `runId`, when given).
 */
export function useJob(kind: JobKind, runId: number | null, jobId: number | null, onFinished: (job: LiveJob) => void) {
  const [live, setLive] = useState<LiveJob | null>(null);
  const mine = useCallback(
    (j: { kind: string; runId: number | null; id: number }) =>
      j.kind === kind && (jobId !== null ? j.id === jobId : runId === null || j.runId === runId),
    [kind, runId, jobId],
  );

  useEffect(() => {
    setLive(null);
    let on = true;
    void client.call('jobs:list', {}).then((jobs) => {
      const job = jobs.find((j) => mine(j) && active(j.status));
      if (on && job)
        setLive({
          jobId: job.id,
          status: job.status,
          step: job.progress?.step ?? 0,
          total: job.progress?.total ?? 0,
          phase: job.progress?.phase,
          error: null,
        });
    });
    return () => {
      on = false;
    };
  }, [mine]);

  useEvent(
    'job:progress',
    useCallback(
      (p: JobProgress) => {
        if (!mine({ kind: p.kind, runId: p.runId, id: Number(p.jobId) })) return;
        const next: LiveJob = {
          jobId: Number(p.jobId),
          status: p.status,
          step: p.step,
          total: p.total,
          phase: p.phase,
          etaSeconds: p.etaSeconds,
          perSecond: p.imagesPerSecond,
          error: p.error,
        };
        setLive(next);
        if (!active(p.status)) onFinished(next);
      },
      [mine, onFinished],
    ),
  );

  const cancel = useCallback(async () => {
    if (live) await client.call('jobs:cancel', { id: live.jobId });
  }, [live]);
  return { live: live && active(live.status) ? live : null, last: live, cancel };
}

/** "12 s left", "3 min left", or nothing while the rate is unknown. */
export function timeLeft(s?: number): string {
  if (s === undefined || !Number.isFinite(s)) return 'estimating time left…';
  return s > 90 ? `about ${Math.round(s / 60)} min left` : `${Math.max(1, Math.round(s))} s left`;
}
