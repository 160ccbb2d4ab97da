// The case list: every slide with its slide score (its highest cell score and how many cells
// reach the threshold) for the chosen class, sortable, with a review status and a note per slide
// (who reviewed it and when). A slide's name opens its gallery; ↑/↓ move, Enter opens.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CaseSummary, SlideReviewStatus } from '@shared/cells';
import type { ClassNode, RunRecord } from '@shared/domain';
import { client } from '../../api/client';
import { useQuery } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { gridShortcut } from './gridKeys';

type SortKey = 'name' | 'cells' | 'maxScore' | 'cellsAboveThreshold' | 'status' | 'reviewedAt';

interface Props {
  run: RunRecord;
  classes: ClassNode[];
  scoreClassId: number | null;
  version: number;
  onOpenGallery: (imageId: number) => void;
  onChanged: () => void;
}

const STATUS: { value: SlideReviewStatus; label: string }[] = [
  { value: 'not-classified', label: 'not classified' },
  { value: 'classified', label: 'to review' },
  { value: 'reviewed', label: 'reviewed' },
];

export function CaseList({ run, classes, scoreClassId, version, onOpenGallery, onChanged }: Props) {
  const [threshold, setThreshold] = useState(0.5);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'maxScore', desc: true });
  const [local, setLocal] = useState(0);
  const [row, setRow] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const cases = useQuery(
    'cases:list',
    scoreClassId === null ? null : { runId: run.id, classIds: [scoreClassId], threshold },
    version + local,
  );
  const scoreName = classes.length ? findName(classes, scoreClassId) : '';

  const sorted = useMemo(() => {
    const list = [...(cases.value ?? [])];
    const value = (c: CaseSummary): number | string => {
      if (sort.key === 'name') return c.name.toLowerCase();
      if (sort.key === 'status') return STATUS.findIndex((s) => s.value === c.status);
      if (sort.key === 'reviewedAt') return c.reviewedAt ?? '';
      return c[sort.key] ?? -1;
    };
    list.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      const cmp = va < vb ? -1 : va > vb ? 1 : a.name.localeCompare(b.name);
      return sort.desc ? -cmp : cmp;
    });
    return list;
  }, [cases.value, sort]);

  // Status and note as last set, per slide: changing one before the list reloads keeps the other.
  const drafts = useRef(new Map<number, { status: SlideReviewStatus; note: string }>());
  const draft = (c: CaseSummary) => drafts.current.get(c.imageId) ?? { status: c.status, note: c.note };
  const review = async (c: CaseSummary, patch: { status?: SlideReviewStatus; note?: string }) => {
    const next = { ...draft(c), ...patch };
    drafts.current.set(c.imageId, next);
    try {
      await client.call('cases:review', { imageId: c.imageId, ...next });
      setProblem(null);
      setLocal((v) => v + 1);
      onChanged();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const id = gridShortcut(e);
      if (id === 'gridMove' && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
        e.preventDefault();
        setRow((r) => Math.max(0, Math.min(sorted.length - 1, r + (e.key === 'ArrowDown' ? 1 : -1))));
      } else if (id === 'gridAccept' && sorted[row]) {
        e.preventDefault();
        onOpenGallery(sorted[row].imageId);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [sorted, row, onOpenGallery]);

  const header = (key: SortKey, label: string, title?: string) => (
    <th aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'} title={title}>
      <button
        className="link"
        data-testid={`cases-sort-${key}`}
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'name' }))}
      >
        {label}
        {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );

  return (
    <div className="cells-body cells-cases">
      <main className="cells-main card">
        <div className="row spaced">
          <h2>
            Cases · score: {scoreName} · run #{run.id}
          </h2>
          <span className="spacer" />
          <label title="A cell counts when its score is at least this">
            threshold{' '}
            <input
              type="number"
              className="small"
              min={0}
              max={1}
              step={0.05}
              value={threshold}
              data-testid="cases-threshold"
              onChange={(e) => setThreshold(Math.max(0, Math.min(1, Number(e.target.value))))}
            />
          </label>
        </div>
        <ErrorBanner message={problem ?? cases.error} onDismiss={() => setProblem(null)} />
        <div className="cases-scroll">
          <table className="cases" data-testid="cases-table">
            <thead>
              <tr>
                {header('name', 'Slide')}
                {header('cells', 'Cells', 'detected cells / classified cells')}
                {header('maxScore', 'Slide score', 'the highest cell score of the slide')}
                {header('cellsAboveThreshold', `≥ ${threshold}`, 'cells whose score reaches the threshold')}
                {header('status', 'Status')}
                <th>Note</th>
                {header('reviewedAt', 'Reviewed')}
              </tr>
            </thead>
            <tbody>
              {sorted.map((c, i) => (
                <tr key={c.imageId} className={i === row ? 'current' : ''} data-testid={`case-${c.imageId}`} onClick={() => setRow(i)}>
                  <td className="case-name">
                    <button className="link" title={c.name} onClick={() => onOpenGallery(c.imageId)}>
                      {c.name}
                    </button>
                  </td>
                  <td className="num">
                    {c.cells.toLocaleString()}
                    {c.classifiedCells !== c.cells && <span className="muted"> / {c.classifiedCells.toLocaleString()}</span>}
                  </td>
                  <td className="num" data-testid="case-score">
                    {c.maxScore === null ? '–' : c.maxScore.toFixed(3)}
                  </td>
                  <td className="num">{c.cellsAboveThreshold.toLocaleString()}</td>
                  <td>
                    <select
                      value={c.status}
                      data-testid={`case-status-${c.imageId}`}
                      onChange={(e) => void review(c, { status: e.target.value as SlideReviewStatus })}
                    >
                      {STATUS.map((s) => (
                        <option key={s.value} value={s.value}>
                          {s.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <input
                      key={`${c.imageId}:${c.note}`}
                      className="case-note"
                      data-testid={`case-note-${c.imageId}`}
                      defaultValue={c.note}
                      placeholder="note"
                      title={c.note || 'A note on this slide (saved when you leave the field or press Enter)'}
                      onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
                      onBlur={(e) => e.target.value !== draft(c).note && void review(c, { note: e.target.value })}
                    />
                  </td>
                  <td className="muted case-reviewed" title={c.reviewedAt ? new Date(c.reviewedAt).toLocaleString() : ''}>
                    {c.reviewedBy
                      ? `${c.reviewedBy}, ${new Date(c.reviewedAt!).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}`
                      : '–'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {sorted.length === 0 && <p className="muted">No slides in this project.</p>}
        </div>
      </main>
    </div>
  );
}

function findName(roots: ClassNode[], id: number | null): string {
  for (const c of roots) {
    if (c.id === id) return c.name;
    const hit = findName(c.children, id);
    if (hit) return hit;
  }
  return '';
}
