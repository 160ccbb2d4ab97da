// A training job from the workstation: the labelled patches of a project, split into
// training and validation by main, trained into the run folder with trainRun.
import { FAMILY_NAMES, isFamilyName, type FamilyName } from '../../ml/models/registry';
import { trainRun } from '../../ml/training/trainRun';
import type { JobContext } from './registry';
import { PatchSource } from '../../ml/data/patchSource';
import { resolveSettings } from '../../shared/training';
import type { LabelledPatch, TrainJobResult, TrainJobSpec } from '../../shared/jobs';

export async function runTrainJob(spec: TrainJobSpec, ctx: JobContext): Promise<TrainJobResult> {
  const source = new PatchSource();
  const items = (list: LabelledPatch[]) => list.map((p) => ({ path: source.add(p), label: p.label }));
  try {
    const outcome = await trainRun({
      outDir: spec.runDir,
      checkpoint: spec.checkpoint,
      family: familyOf(spec.family),
      classNames: spec.classNames,
      trainItems: items(spec.train),
      valItems: items(spec.val),
      testItems: [],
      data: { train: spec.project, val: spec.project, test: null, source: 'project labels' },
      settings: resolveSettings(spec.settings),
      resume: spec.resume,
      scale: spec.scale,
      decode: source.read,
      signal: ctx.signal,
      log: (line) => ctx.log(line),
      onFeatures: featureProgress(ctx),
      onProgress: (p) =>
        ctx.progress({
          step: p.step,
          total: p.totalSteps,
          phase: 'training',
          loss: p.loss,
          lr: p.lr,
          accuracy: p.accuracy,
          imagesPerSecond: p.imagesPerSecond,
          etaSeconds: p.etaSeconds,
        }),
    });
    if (outcome.status === 'cancelled') throw Object.assign(new Error(`Cancelled at step ${outcome.step}.`), { kind: 'cancelled' });
    const metrics = outcome.metrics!;
    const validation = spec.val.map((v, i) => ({ key: v.key, label: v.label, predicted: metrics.valPredicted[i] }));
    return { status: 'completed', runDir: spec.runDir, steps: outcome.step, metrics, validation };
  } finally {
    await source.close();
  }
}

/**
 * The linear probe's feature extraction as progress: images embedded, their rate and the time
 * left, timed from the first batch (which also pays for loading the model's kernels).
 */
function featureProgress(ctx: Pick<JobContext, 'progress'>) {
  let first: { done: number; at: number } | null = null;
  return (done: number, total: number) => {
    const at = performance.now();
    if (!first) {
      first = { done, at };
      return ctx.progress({ step: done, total, phase: 'extracting features' });
    }
    const imagesPerSecond = ((done - first.done) * 1000) / Math.max(1, at - first.at);
    const etaSeconds = imagesPerSecond > 0 ? (total - done) / imagesPerSecond : undefined;
    ctx.progress({ step: done, total, phase: 'extracting features', imagesPerSecond, etaSeconds });
  };
}

/** The spec names a family as a string; the worker checks it against the registry. */
export function familyOf(name: string | undefined): FamilyName | undefined {
  if (name === undefined || isFamilyName(name)) return name;
  throw Object.assign(new Error(`Unknown model family "${name}"; choose one of ${FAMILY_NAMES.join(', ')}.`), { kind: 'invalid-input' });
}
