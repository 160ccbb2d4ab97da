// Line charts as plain SVG (no plotting library): accuracy against shots (log2 axis, the
// paper's Figure 1) or against the percentage of training data (its Figure 2), one colour per
// model, error bars of one standard deviation, dashed horizontal reference lines (the linear
// probe on the whole training split). PNG copies are rasterised from the SVG by sharp.
import sharp from 'sharp';

export interface Point {
  x: number;
  /** Accuracy in %. */
  y: number;
  err?: number;
}

export interface Series {
  label: string;
  color: string;
  /** SVG stroke-dasharray; undefined for a solid line. */
  dash?: string;
  points: Point[];
}

export interface RefLine {
  label: string;
  color: string;
  y: number;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xScale: 'log2' | 'linear';
  xTicks: number[];
  series: Series[];
  refLines: RefLine[];
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const W = 760;
const H = 460;
const M = { left: 64, right: 220, top: 40, bottom: 56 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A y range that contains every value and error bar, on multiples of a nice step, within 0..100. */
export function yRange(values: number[]): { lo: number; hi: number; step: number } {
  if (values.length === 0) return { lo: 0, hi: 100, step: 20 };
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 5) {
    lo -= 2.5;
    hi += 2.5;
  }
  const span = hi - lo;
  const step = [1, 2, 5, 10, 20, 25].find((s) => span / s <= 8) ?? 25;
  lo = Math.max(0, Math.floor(lo / step) * step);
  hi = Math.min(100, Math.ceil(hi / step) * step);
  if (hi <= lo) hi = lo + step;
  return { lo, hi, step };
}

/** Width of the legend column: room for the longest label (DejaVu Sans 12 px: ~7.2 px per character). */
function legendWidth(labels: string[]): number {
  return Math.max(M.right, 14 + 32 + Math.ceil(7.2 * Math.max(0, ...labels.map((l) => l.length))) + 12);
}

export function renderChartSvg(c: ChartSpec): string {
  const pw = W - M.left - M.right;
  // The plot keeps its size; the picture widens so no legend label is cut.
  const width = M.left + pw + legendWidth([...c.series.map((s) => s.label), ...c.refLines.map((r) => r.label)]);
  const ph = H - M.top - M.bottom;
  const tx = (x: number) => (c.xScale === 'log2' ? Math.log2(x) : x);
  const xs = [...c.xTicks, ...c.series.flatMap((s) => s.points.map((p) => p.x))].map(tx);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x1 === x0) {
    x0 -= 1;
    x1 += 1;
  }
  const pad = (x1 - x0) * 0.04;
  x0 -= pad;
  x1 += pad;
  const ys = [...c.series.flatMap((s) => s.points.flatMap((p) => [p.y - (p.err ?? 0), p.y + (p.err ?? 0)])), ...c.refLines.map((r) => r.y)];
  const yr = yRange(ys);
  const X = (x: number) => M.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const Y = (y: number) => M.top + (1 - (y - yr.lo) / (yr.hi - yr.lo)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  // Grid and axes.
  for (let y = yr.lo; y <= yr.hi + 1e-9; y += yr.step) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${f(Y(y))}" y2="${f(Y(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(Y(y) + 4)}" text-anchor="end">${y}</text>`);
  }
  for (const t of c.xTicks) {
    out.push(`<line x1="${f(X(t))}" x2="${f(X(t))}" y1="${M.top}" y2="${M.top + ph}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${f(X(t))}" y="${M.top + ph + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  // Reference lines, then series (lines, error bars, markers).
  for (const r of c.refLines) {
    out.push(
      `<line class="ref" x1="${M.left}" x2="${M.left + pw}" y1="${f(Y(r.y))}" y2="${f(Y(r.y))}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="8 5"><title>${esc(r.label)}: ${r.y.toFixed(2)} %</title></line>`,
    );
  }
  for (const s of c.series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts.map((p, i) => `${i ? 'L' : 'M'}${f(X(p.x))},${f(Y(p.y))}`).join(' ');
      out.push(
        `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
    }
    for (const p of pts) {
      if (p.err) {
        const cx = X(p.x);
        const [lo, hi] = [Y(p.y - p.err), Y(p.y + p.err)];
        out.push(
          `<path class="errorbar" d="M${f(cx)},${f(lo)} L${f(cx)},${f(hi)} M${f(cx - 4)},${f(lo)} L${f(cx + 4)},${f(lo)} M${f(cx - 4)},${f(hi)} L${f(cx + 4)},${f(hi)}" stroke="${s.color}" stroke-width="1.2" fill="none"/>`,
        );
      }
      out.push(
        `<circle class="point" cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="3.5" fill="${s.dash ? '#ffffff' : s.color}" stroke="${s.color}" stroke-width="1.5"><title>${esc(s.label)} @ ${p.x}: ${p.y.toFixed(2)} %${p.err ? ` ± ${p.err.toFixed(2)}` : ''}</title></circle>`,
      );
    }
  }
  // Legend on the right.
  const legend = [
    ...c.series.map((s) => ({ label: s.label, color: s.color, dash: s.dash })),
    ...c.refLines.map((r) => ({ label: r.label, color: r.color, dash: '8 5' })),
  ];
  legend.forEach((l, i) => {
    const y = M.top + 10 + i * 20;
    const x = M.left + pw + 14;
    out.push(
      `<line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>`,
    );
    out.push(`<text x="${x + 32}" y="${y + 4}">${esc(l.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Rasterises an SVG file's text to PNG at twice its size. */
export async function svgToPng(svg: string, pngPath: string): Promise<void> {
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(pngPath);
}
