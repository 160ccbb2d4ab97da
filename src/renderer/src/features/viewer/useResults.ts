// A run's predictions on one image, the heatmap they draw and the review queue.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ClassNode, Prediction, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import type { HeatCell } from './overlay';
import type { HeatMode } from './ResultsPanel';

export function useResults(runId: number | null, imageId: number, classes: ClassNode[], onChanged: () => void) {
  const [run, setRun] = useState<RunRecord | null>(null);
  const [predictions, setPredictions] = useState<Prediction[]>([]);
  const [mode, setMode] = useState<HeatMode>({ kind: 'predicted' });
  const [opacity, setOpacity] = useState(0.45);
  const [sort, setSort] = useState<'uncertainty' | 'probability'>('uncertainty');
  const [done, setDone] = useState<Set<number>>(new Set());
  const [picked, setPicked] = useState<Prediction | null>(null);

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
  const queue = useMemo(() => [...predictions].filter((p) => !done.has(p.id)).sort((a, b) => b.entropy - a.entropy), [predictions, done]);
  const current = queue[0] ?? null;

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
      await client.call('predictions:accept', { predictionId: p.id, classId });
      setDone((d) => new Set(d).add(p.id));
      onChanged();
    },
    [onChanged],
  );
  const skip = useCallback((p: Prediction) => setDone((d) => new Set(d).add(p.id)), []);

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
    queue,
    current,
    focus: picked ?? current,
    pick: setPicked,
    accept,
    skip,
  };
}
