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

export function toCsv(rows: ExportRow[]): string {
  const lines = [columns.join(',')];
  for (const r of rows) {
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
      ]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
