// A small SVG line chart for live training curves: no chart library, redrawn per update. It
// scales to its box (viewBox), puts log-scale ticks at whole decades (1e-3, 1e-4) and, with no
// point yet, draws no axis values at all rather than an invented 0..1.
export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

interface Props {
  title: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Log scale for learning rates. */
  log?: boolean;
  testId?: string;
}

/** Tick values for [lo, hi] in the chart's own units (log10 of the value on a log scale). */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const from = Math.floor(lo + 1e-9);
    const to = Math.ceil(hi - 1e-9);
    const all = Array.from({ length: Math.max(1, to - from + 1) }, (_, i) => from + i);
    const every = Math.ceil(all.length / 4);
    return all.filter((_, i) => i % every === 0 || i === all.length - 1);
  }
  const span = hi - lo || 1;
  const raw = span / 3;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const format = (v: number, log: boolean) =>
  log
    ? `1e${Math.round(v)}`
    : Math.abs(v) >= 100
      ? v.toFixed(0)
      : Math.abs(v) >= 1
        ? String(Number(v.toFixed(2)))
        : String(Number(v.toPrecision(2)));

export function LineChart({ title, series, width = 320, height = 140, log = false, testId }: Props) {
  const pad = { l: 44, r: 10, t: 18, b: 20 };
  const valid = (p: { y: number }) => Number.isFinite(p.y) && (!log || p.y > 0);
  const all = series.flatMap((s) => s.points).filter(valid);
  const f = (y: number) => (log ? Math.log10(y) : y);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => f(p.y));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = all.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (log && all.length) [y0, y1] = [Math.floor(y0 + 1e-9), Math.max(Math.ceil(y1 - 1e-9), Math.floor(y0 + 1e-9) + 1)];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMid meet"
      data-testid={testId}
      data-points={all.length}
      role="img"
      aria-label={title}
    >
      <text x={pad.l} y={12} className="chart-title">
        {title}
      </text>
      <line x1={pad.l} y1={height - pad.b} x2={width - pad.r} y2={height - pad.b} className="axis" />
      <line x1={pad.l} y1={pad.t} x2={pad.l} y2={height - pad.b} className="axis" />
      {all.length === 0 ? (
        <text x={(pad.l + width - pad.r) / 2} y={(pad.t + height - pad.b) / 2} className="chart-empty" textAnchor="middle">
          waiting for the first step
        </text>
      ) : (
        <>
          {ticks(y0, y1, log).map((v) => (
            <g key={v}>
              <line x1={pad.l - 3} x2={pad.l} y1={sy(v)} y2={sy(v)} className="axis" />
              <text x={pad.l - 5} y={sy(v) + 3} className="tick" textAnchor="end">
                {format(v, log)}
              </text>
            </g>
          ))}
          <text x={width - pad.r} y={height - 6} className="tick" textAnchor="end">
            step {x1}
          </text>
        </>
      )}
      {series.map((s) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={s.color}
          strokeWidth={1.5}
          vectorEffect="non-scaling-stroke"
          points={s.points
            .filter(valid)
            .map((p) => `${sx(p.x).toFixed(1)},${sy(f(p.y)).toFixed(1)}`)
            .join(' ')}
        />
      ))}
    </svg>
  );
}
