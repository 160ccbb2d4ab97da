// "Detect cells" on one slide: the preset and its two main parameters in micrometres (kept for
// the next slide), the slide's detection runs, and the running detection's progress and cancel.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { DetectionPresetInfo, DetectionRun } from '@shared/cells';
import { client } from '../../api/client';
import { useQuery } from '../../api/hooks';
import { useJob, type LiveJob } from './useJob';

export type PresetName = DetectionPresetInfo['name'];

export interface DetectionForm {
  preset: PresetName;
  minUm: number;
  maxUm: number;
  contrast: number;
}

const FORM_KEY = 'cytotune.cells.detectForm';
/** The job started for each slide in this session (a detect job's events carry no image). */
const jobsBySlide = new Map<number, number>();

function storedForm(): DetectionForm | null {
  try {
    return JSON.parse(window.localStorage.getItem(FORM_KEY) ?? 'null') as DetectionForm | null;
  } catch {
    return null;
  }
}

export function useDetection(imageId: number, onFinished: () => void) {
  const presets = useQuery('cells:presets', {});
  const [form, setFormState] = useState<DetectionForm | null>(storedForm);
  const [runs, setRuns] = useState<DetectionRun[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<number | null>(jobsBySlide.get(imageId) ?? null);

  const fromPreset = useCallback(
    (name: PresetName): DetectionForm | null => {
      const p = presets.value?.find((x) => x.name === name);
      return p ? { preset: p.name, minUm: p.nucleusDiameterUm.min, maxUm: p.nucleusDiameterUm.max, contrast: p.minContrastOd } : null;
    },
    [presets.value],
  );
  useEffect(() => {
    if (!form && presets.value?.length) setFormState(fromPreset('pap-lbc'));
  }, [form, presets.value, fromPreset]);
  const setForm = useCallback((next: DetectionForm) => {
    setFormState(next);
    window.localStorage.setItem(FORM_KEY, JSON.stringify(next));
  }, []);
  const pickPreset = useCallback(
    (name: PresetName) => {
      const next = fromPreset(name);
      if (next) setForm(next);
    },
    [fromPreset, setForm],
  );

  const reloadRuns = useCallback(async () => setRuns(await client.call('cells:runs', { imageId })), [imageId]);
  useEffect(() => {
    void reloadRuns().catch((e: Error) => setError(e.message));
  }, [reloadRuns]);

  const finished = useCallback(
    (job: LiveJob) => {
      if (job.status === 'failed' && job.error) setError(job.error);
      void reloadRuns().then(onFinished);
    },
    [reloadRuns, onFinished],
  );
  const latest = runs[0];
  const mineActive = latest && (latest.status === 'queued' || latest.status === 'running');
  const job = useJob('detect', null, jobId, finished);

  const request = useMemo(
    () =>
      form
        ? { preset: form.preset, params: { nucleusDiameterUm: { min: form.minUm, max: form.maxUm }, minContrastOd: form.contrast } }
        : {},
    [form],
  );

  const start = useCallback(async () => {
    setError(null);
    try {
      await client.call('cells:detect', { imageId, ...request });
      // The job submitted with the run is the newest detect job.
      const jobs = await client.call('jobs:list', {});
      const newest = jobs.filter((j) => j.kind === 'detect').sort((a, b) => b.id - a.id)[0];
      if (newest) {
        jobsBySlide.set(imageId, newest.id);
        setJobId(newest.id);
      }
      await reloadRuns();
    } catch (e) {
      setError((e as Error).message);
    }
  }, [imageId, request, reloadRuns]);

  return {
    presets: presets.value ?? [],
    form,
    setForm,
    pickPreset,
    request,
    runs,
    latest,
    /** Progress of this slide's detection while it is queued or runs. */
    live: mineActive ? job.live : null,
    queued: mineActive && !job.live,
    start,
    cancel: () => job.cancel().catch((e: Error) => setError(e.message)),
    error,
    clearError: () => setError(null),
  };
}
