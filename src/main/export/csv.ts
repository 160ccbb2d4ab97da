import type { ExportRow } from './labelTable';

const columns = [
  'type',
  'image_id',
  'image_path',
  'class',
  'class_path',
  'x',
  'y',
  'width',
  'height',
  'source',
  'author',
  'run_id',
  'probability',
  'entropy',
  'created_at',
  'cell_id',
  'cell_x',
  'cell_y',
  'area_um2',
  'mean_od',
  'circularity',
];

/**
 * RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled. Text
 * that a spreadsheet would run as a formula (=, +, -, @, tab, CR first: OWASP's list) gets a
 * leading apostrophe; numbers are written as numbers, so a box at x = -5 stays -5.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One p_<class> column per class any exported run has, in the order they first appear. */
function classColumns(rows: ExportRow[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const name of Object.keys(r.probabilities ?? {})) names.add(name);
  return [...names];
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

export function toCsv(rows: ExportRow[]): string {
  const classNames = classColumns(rows);
  const lines = [[...columns, ...classNames.map((n) => `p_${n}`)].map(csvField).join(',')];
  for (const r of rows) {
    const c = r.cell;
    lines.push(
      [
        r.type,
        r.imageId,
        r.imagePath,
        r.className,
        r.classPath,
        r.box.x,
        r.box.y,
        r.box.w,
        r.box.h,
        r.source,
        r.author,
        r.runId,
        r.probability,
        r.entropy,
        r.createdAt,
        c?.id,
        c && round(c.x, 1),
        c && round(c.y, 1),
        c && round(c.areaUm2, 2),
        c && round(c.meanOd, 4),
        c && round(c.circularity, 4),
        ...classNames.map((n) => r.probabilities?.[n]),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
