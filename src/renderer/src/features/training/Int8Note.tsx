// One line on a run's int8 agreement check (stored in its metrics at the end of training): how
// well the int8 graph agreed with full precision on the labelled cells, and so whether
// classification with `auto` uses it.
import { describeInt8Check, int8CheckPasses } from '@shared/int8Check';
import type { RunMetrics } from '@shared/jobs';

export function Int8Note({ metrics }: { metrics: Record<string, unknown> | null }) {
  const m = metrics as Pick<RunMetrics, 'int8' | 'int8Note'> | null;
  if (!m || (m.int8 === undefined && m.int8Note === undefined)) return null;
  const text = m.int8
    ? `${describeInt8Check(m.int8)} · ${int8CheckPasses(m.int8) ? 'classification uses int8' : 'below the bar (99 %, 0.02): classification stays in full precision'}`
    : `int8 check ${m.int8Note ?? 'not measured'}: classification stays in full precision`;
  return (
    <p className="muted" data-testid="run-int8">
      {text}
    </p>
  );
}
