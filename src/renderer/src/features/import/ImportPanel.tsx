// Import by path (browser mode cannot hand us local file handles): a path field, a
// server-side picker, live progress, and a summary that names every skipped file.
import { useCallback, useState } from 'react';
import type { ImportProgress } from '@shared/api';
import type { ImportSummary } from '@shared/domain';
import { client } from '../../api/client';
import { useEvent } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FolderPicker } from '../../components/FolderPicker';

export function ImportPanel({ onImported }: { onImported: () => void }) {
  const [paths, setPaths] = useState('');
  const [picking, setPicking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEvent(
    'import:progress',
    useCallback((p: ImportProgress) => setProgress(p), []),
  );

  const run = async () => {
    const list = paths
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
    if (list.length === 0) return setProblem('Type or choose a folder or file to import.');
    setBusy(true);
    setSummary(null);
    setProblem(null);
    try {
      setSummary(await client.call('import:run', { paths: list }));
      onImported();
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  return (
    <section className="card import" aria-label="Import">
      <h2>Import</h2>
      <p className="muted">
        A folder of class sub-folders (<code>root/class/image</code>) imports labelled images; a folder of images or single files imports
        them unlabelled. PNG, JPEG, TIFF, BMP and whole-slide files.
      </p>
      <div className="row">
        <textarea
          data-testid="import-paths"
          rows={2}
          placeholder="/data/herlev (one path per line)"
          value={paths}
          onChange={(e) => setPaths(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void run()}
        />
        <div className="col">
          <button onClick={() => setPicking(true)}>Browse…</button>
          <button className="primary" data-testid="import-run" disabled={busy} onClick={run} title="Ctrl+Enter">
            {busy ? 'Importing…' : 'Import'}
          </button>
        </div>
      </div>
      {busy && progress && (
        <div className="progress" data-testid="import-progress">
          <progress max={progress.total} value={progress.done} /> {progress.done}/{progress.total} · {progress.added} added ·{' '}
          {progress.duplicates} duplicates · {progress.unreadable} unreadable
        </div>
      )}
      <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      {summary && (
        <div className="summary" data-testid="import-summary">
          Added {summary.added}, duplicates {summary.duplicates}, unreadable {summary.unreadable.length}
          {summary.classesCreated.length > 0 && <> · new classes: {summary.classesCreated.join(', ')}</>}
          {summary.unreadable.length > 0 && (
            <ul className="problems">
              {summary.unreadable.slice(0, 50).map((u) => (
                <li key={u.path}>
                  <code>{u.path}</code>: {u.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {picking && (
        <FolderPicker
          onCancel={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            setPaths((old) => (old.trim() ? `${old.trim()}\n${p}` : p));
          }}
        />
      )}
    </section>
  );
}
