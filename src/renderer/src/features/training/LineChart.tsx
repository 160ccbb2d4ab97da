// A small SVG line chart for live training curves: no chart library, redrawn per update.
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

export function LineChart({ title, series, width = 320, height = 140, log = false, testId }: Props) {
  const pad = { l: 44, r: 8, t: 18, b: 20 };
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && (!log || p.y > 0));
  const f = (y: number) => (log ? Math.log10(y) : y);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => f(p.y));
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!all.length) [y0, y1] = [0, 1];
  if (y0 === y1) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((f(y) - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const label = (v: number) => (log ? `1e${v.toFixed(1)}` : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return (
    <svg className="chart" width={width} height={height} data-testid={testId} data-points={all.length} role="img" aria-label={title}>
      <text x={pad.l} y={12} className="chart-title">
        {title}
      </text>
      <line x1={pad.l} y1={height - pad.b} x2={width - pad.r} y2={height - pad.b} className="axis" />
      <line x1={pad.l} y1={pad.t} x2={pad.l} y2={height - pad.b} className="axis" />
      <text x={pad.l - 4} y={pad.t + 4} className="tick" textAnchor="end">
        {label(y1)}
      </text>
      <text x={pad.l - 4} y={height - pad.b} className="tick" textAnchor="end">
        {label(y0)}
      </text>
      <text x={width - pad.r} y={height - 6} className="tick" textAnchor="end">
        step {x1}
      </text>
      {series.map((s) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={s.color}
          strokeWidth={1.5}
          points={s.points
            .filter((p) => Number.isFinite(p.y) && (!log || p.y > 0))
            .map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
            .join(' ')}
        />
      ))}
    </svg>
  );
}
