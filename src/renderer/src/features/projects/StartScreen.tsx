import { useEffect, useState, type FormEvent } from 'react';
import { client } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FolderPicker } from '../../components/FolderPicker';

/** The file a path names, as the core resolves it (".cytotune" added when missing). */
function projectFile(path: string): { dir: string; name: string } | null {
  const p = path.trim().replace(/[\\/]+$/, '');
  const cut = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  if (!p || cut < 0) return null;
  const name = p.slice(cut + 1);
  return { dir: p.slice(0, cut) || '/', name: name.endsWith('.cytotune') ? name : `${name}.cytotune` };
}

/** Whether the project file exists: Enter then opens it instead of trying to create it again. */
async function projectExists(path: string): Promise<boolean> {
  const file = projectFile(path);
  if (!file) return false;
  try {
    const listing = await client.call('fs:list', { path: file.dir });
    return listing.entries.some((e) => e.kind === 'file' && e.name === file.name);
  } catch {
    return false;
  }
}

export function StartScreen({ onOpened, error }: { onOpened: () => void; error: string | null }) {
  const [path, setPath] = useState('');
  const [problem, setProblem] = useState<string | null>(error);
  const [picking, setPicking] = useState(false);
  const [exists, setExists] = useState(false);

  // Which of the two buttons Enter presses follows the path as it is typed.
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => void projectExists(path).then((e) => live && setExists(e)), 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path]);

  const submit = async (mode: 'create' | 'open' | 'auto', e?: FormEvent) => {
    e?.preventDefault();
    if (!path.trim()) return setProblem('Type the path of a project file, e.g. /data/cervix.cytotune');
    const chosen = mode === 'auto' ? ((await projectExists(path)) ? 'open' : 'create') : mode;
    try {
      await client.call(chosen === 'create' ? 'project:create' : 'project:open', { path: path.trim() });
      onOpened();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };

  return (
    <main className="start">
      <h1>CytoTune</h1>
      <p className="subtitle">Label a few cells, fine-tune a foundation model, classify whole slides — offline.</p>
      <form className="card start-card" onSubmit={(e) => submit('auto', e)}>
        <label htmlFor="project-path">Project file</label>
        <div className="row">
          <input
            id="project-path"
            data-testid="project-path"
            placeholder="/path/to/my-study.cytotune"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            autoFocus
          />
          <button type="button" onClick={() => setPicking(true)}>
            Browse…
          </button>
        </div>
        <div className="row actions">
          <button
            type="button"
            className={exists ? '' : 'primary'}
            data-testid="create-project"
            disabled={exists}
            title={exists ? 'This file exists: open it' : 'Enter'}
            onClick={() => submit('create')}
          >
            Create project
          </button>
          <button
            type="button"
            className={exists ? 'primary' : ''}
            data-testid="open-project"
            title={exists ? 'Enter' : undefined}
            onClick={() => submit('open')}
          >
            Open project
          </button>
          <span className="muted" data-testid="start-primary">
            {path.trim() ? (exists ? 'Enter opens this project' : 'Enter creates a new project here') : ''}
          </span>
        </div>
        <ErrorBanner message={problem} onDismiss={() => setProblem(null)} />
      </form>
      {picking && (
        <FolderPicker
          onCancel={() => setPicking(false)}
          onPick={(p) => {
            setPicking(false);
            setPath(p.endsWith('.cytotune') ? p : `${p}/project.cytotune`);
          }}
        />
      )}
    </main>
  );
}
