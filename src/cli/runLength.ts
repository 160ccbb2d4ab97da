// How long `cytotune train` runs, said before it starts. The paper's LoRA length is not epochs:
// steps = warm-up + iters x shots (CFT lora.py), and without --shots the code uses batches per
// epoch in place of shots, so `--iters 30` on 734 images is 50 + 30 x 23 = 740 steps. Printing the
// formula with its numbers makes that visible; --epochs and --steps say the length directly.
import { loraSteps, type TrainSettings } from '../shared/training';

export interface LengthRequest {
  iters?: number;
  epochs?: number;
  steps?: number;
}

export interface RunLength {
  /** The settings to train with: `steps` filled in when --epochs sets a LoRA run's length. */
  settings: TrainSettings;
  /** What trainRun will run (it computes the same from `settings`). */
  steps: number;
  line: string;
}

/** `images`: the training items after few-shot sampling. */
export function runLength(s: TrainSettings, images: number, asked: LengthRequest): RunLength {
  const batches = Math.ceil(images / s.batchSize);
  const perEpoch = `${batches} batch${batches === 1 ? '' : 'es'} per epoch (${images} images / batch ${s.batchSize})`;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (asked.steps !== undefined) {
    const none = asked.steps === 0 ? ': nothing is trained; the initial adapter and head are written' : '';
    return {
      settings: { ...s, steps: asked.steps },
      steps: asked.steps,
      line: `run length: ${plural(asked.steps, 'step')} (--steps${none})`,
    };
  }
  if (s.method === 'linear' || asked.epochs !== undefined) {
    const epochs = asked.epochs ?? s.epochs;
    const steps = epochs * batches;
    const settings = s.method === 'lora' ? { ...s, epochs, steps } : { ...s, epochs };
    const why = asked.epochs === undefined ? " (the paper's 100 epochs; --epochs N or --steps N to change)" : '';
    return { settings, steps, line: `run length: ${plural(epochs, 'epoch')} x ${perEpoch} = ${plural(steps, 'step')}${why}` };
  }
  const steps = loraSteps(s, images);
  if (steps === 0)
    return { settings: s, steps, line: 'run length: 0 steps (--iters 0: nothing is trained; the initial adapter and head are written)' };
  const unit = s.shots === null ? perEpoch : plural(s.shots, 'shot');
  return {
    settings: s,
    steps,
    line: `run length: warm-up ${s.warmupSteps} + iters ${s.nIters} x ${unit} = ${plural(steps, 'step')} (the paper's formula; --epochs N or --steps N set the length directly)`,
  };
}
