// A run's predictions on one image, the heatmap they draw and the review queue. Decisions are
// kept by main (predictions:accept / predictions:skip): a reopened queue goes on where it was.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ClassNode, Prediction, PredictionReview, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import type { HeatCell } from './overlay';
import type { HeatMode } from './ResultsPanel';

export function useResults(runId: number | null, imageId: number, classes: ClassNode[], onChanged: () => void) {
  const [run, setRun] = useState<RunRecord | null>(null);
  const [predictions, setPredictions] = useState<Prediction[]>([]);
  const [mode, setMode] = useState<HeatMode>({ kind: 'predicted' });
  const [opacity, setOpacity] = useState(0.45);
  const [sort, setSort] = useState<'uncertainty' | 'probability'>('uncertainty');
  const [picked, setPicked] = useState<Prediction | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (runId === null) return;
    void client.call('runs:get', { runId }).then(setRun);
    void client.call('predictions:list', { runId, imageId }).then(setPredictions);
  }, [runId, imageId]);

  const byId = useMemo(() => new Map(classes.map((c) => [c.id, c])), [classes]);
  const runClasses = useMemo(
    () => ((run?.config.classes as { id: number }[] | undefined) ?? []).map((c) => byId.get(c.id)).filter((c): c is ClassNode => !!c),
    [run, byId],
  );
  // Least certain first; what was skipped comes back after everything else.
  const queue = useMemo(() => {
    const open = predictions.filter((p) => !p.review || p.review.decision === 'skipped');
    const byEntropy = (a: Prediction, b: Prediction) => b.entropy - a.entropy || a.id - b.id;
    // Skipped ones in the order they were skipped, so skipping again moves one to the end.
    const bySkip = (a: Prediction, b: Prediction) => a.review!.at.localeCompare(b.review!.at) || byEntropy(a, b);
    return [...open.filter((p) => !p.review).sort(byEntropy), ...open.filter((p) => p.review).sort(bySkip)];
  }, [predictions]);
  const waiting = queue.filter((p) => !p.review).length;
  const reviewed = predictions.length - queue.length;
  const current = queue[0] ?? null;
  const decide = useCallback(
    (id: number, review: PredictionReview | null) => setPredictions((list) => list.map((p) => (p.id === id ? { ...p, review } : p))),
    [],
  );

  const cells: HeatCell[] = useMemo(
    () =>
      predictions.map((p) =>
        mode.kind === 'predicted'
          ? { box: p.box, color: byId.get(p.classId)?.color ?? '#888888', alpha: 1 }
          : { box: p.box, color: runClasses[mode.index]?.color ?? '#d62728', alpha: p.probabilities[mode.index] },
      ),
    [predictions, mode, byId, runClasses],
  );

  const accept = useCallback(
    async (p: Prediction, classId?: number) => {
      // Decided at once, so a key pressed before main answers goes to the next patch.
      const decision = (classId ?? p.classId) === p.classId ? 'accepted' : 'corrected';
      decide(p.id, { decision, annotationId: null, actor: '', at: new Date().toISOString() });
      try {
        const label = await client.call('predictions:accept', { predictionId: p.id, classId });
        decide(p.id, { decision, annotationId: label.id, actor: label.author, at: label.updatedAt });
      } catch (e) {
        decide(p.id, p.review ?? null);
        setProblem((e as Error).message);
        return;
      }
      setProblem(null);
      onChanged();
    },
    [onChanged, decide],
  );
  const skip = useCallback(
    async (p: Prediction) => {
      decide(p.id, { decision: 'skipped', annotationId: null, actor: '', at: new Date().toISOString() });
      try {
        decide(p.id, await client.call('predictions:skip', { predictionId: p.id }));
      } catch (e) {
        decide(p.id, p.review ?? null);
        setProblem((e as Error).message);
      }
    },
    [decide],
  );

  return {
    active: runId !== null,
    run,
    runClasses,
    predictions,
    cells,
    mode,
    setMode,
    opacity,
    setOpacity,
    sort,
    setSort,
    problem,
    clearProblem: () => setProblem(null),
    queue,
    waiting,
    reviewed,
    current,
    focus: picked ?? current,
    pick: setPicked,
    accept,
    skip,
  };
}
