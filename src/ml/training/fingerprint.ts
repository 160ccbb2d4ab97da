// The identity of a training run, so a rerun with the same settings and items resumes it and
// one with other settings is refused.
import { createHash } from 'node:crypto';
import type { TrainSettings } from '../../shared/training';
import type { LabeledItem } from '../data/fewShot';

/** Stable identity of a run: settings that change the result, and the exact training items. */
export function runFingerprint(s: TrainSettings, items: LabeledItem[], extra: unknown): string {
  // `augment` is left out: the pipeline's description (in `extra`) says it, as it did before the
  // setting existed, so runs checkpointed then still resume.
  const { microBatchSize: _m, checkpointEvery: _c, fastGradients: _f, processes: _p, augment: _a, ...relevant } = s;
  const h = createHash('sha256');
  // How the head count was found (option, config file or guess) is provenance, not identity: a
  // run resumes whatever said its head count.
  h.update(JSON.stringify({ relevant, extra }, (key, value: unknown) => (key === 'headsSource' ? undefined : value)));
  for (const it of items) h.update(`${it.label}\t${it.path}\n`);
  return h.digest('hex');
}
